"""ADO's benchmarks: ``python -m bench`` runs them all and prints the figures.

Each benchmark is a module with ``run() -> list[Result]``; docs/performance.md records the
figures against the targets in DEVELOPERS.md.
"""
