"""Alembic migrations, run by ``Store.migrate()``; the same scripts for SQLite and PostgreSQL.

To add one after changing ``ado/store/models.py``::

    python -m ado.store.migrations "add the foo column"

then review the new file in ``versions/`` (and ``ruff format`` it), and set ``HEAD`` in
``ado/store/reader.py`` to its revision; a test fails until both agree.
"""
