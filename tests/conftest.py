"""Fixtures shared by the whole suite; each family lives in ``tests/fixtures/``."""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.redis",
    "tests.fixtures.isolation",
    "tests.fixtures.ado",
]
