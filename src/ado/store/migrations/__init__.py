"""Alembic migrations, run by ``Store.migrate()``; the same scripts for SQLite and PostgreSQL.

To add one after changing ``ado/store/models.py``::

    python -m ado.store.migrations "add the foo column"

then review the new file in ``versions/``, and bump ``HEAD`` in ``ado/store/database.py``.
"""
