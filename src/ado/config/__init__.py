"""Configuration: the ``ado.config.yaml`` schema, its loader and its editor."""

from ado.config.loader import LoadedConfig, find_config_file, load_config

__all__ = ["LoadedConfig", "find_config_file", "load_config"]
