"""``ado db backup|restore|upgrade|check``: the store's copies, migration and health.

The work is in ``ado.store.backup`` and ``ado.store.integrity``; this module reads the
store's URL from the configuration and prints what was done.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ado.cli.context import AppContext


def _url(app: AppContext) -> str:
    from ado.store.urls import store_url

    return store_url(app.loaded.config, app.loaded.base_dir)


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    value = size / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


@click.group()
def db() -> None:
    """Back up, restore, migrate and check the store (SQLite or PostgreSQL)."""


@db.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE when it exists.")
@click.pass_obj
def backup(app: AppContext, file: Path | None, force: bool) -> None:
    """Copy the store into FILE (default: ado-backup-<UTC time>.db, or .dump on PostgreSQL).

    SQLite is copied through its online backup API: a consistent copy while tasks run.
    PostgreSQL is dumped by pg_dump (--format=custom), which must be on PATH. The copy is
    checked before it is written to FILE.
    """
    from ado.store.backup import backup as run_backup
    from ado.store.backup import backup_name

    url = _url(app)
    dest = file if file is not None else Path(app.cwd, backup_name(url))
    result = run_backup(url, dest, overwrite=force)
    report = result.report
    click.echo(
        f"Backed up the store to {result.path} ({_size(result.size)}, schema "
        f"{report.revision}, {report.tasks if report.tasks is not None else 'all'} tasks)."
    )


@db.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace a store that is not empty (it is backed up first, or moved aside when damaged).",
)
@click.pass_obj
def restore(app: AppContext, file: Path, force: bool) -> None:
    """Load the backup FILE into the store, then migrate it to this ADO's schema.

    Refuses a backup from a newer ADO, and a store that holds anything unless --force.
    Stop `ado serve` and every `ado run` on this store first.
    """
    from ado.store.backup import restore as run_restore

    result = run_restore(_url(app), file, force=force, saved_dir=Path(app.cwd))
    if result.saved is not None:
        click.echo(f"The replaced store was saved to {result.saved}.")
    source = result.source
    migrated = "" if source.revision == result.revision else f", migrated to {result.revision}"
    tasks = f"{source.tasks} tasks, " if source.tasks is not None else ""
    click.echo(f"Restored {file} ({tasks}schema {source.revision}{migrated}).")


@db.command()
@click.pass_obj
def upgrade(app: AppContext) -> None:
    """Migrate the store to this ADO's schema (creating it when missing).

    Idempotent and safe to run from several processes at once: the prestart step of a
    container or a Kubernetes Job.
    """
    from ado.store.backup import upgrade as run_upgrade

    before, after = run_upgrade(_url(app))
    if before == after:
        click.echo(f"The store is up to date (schema {after}).")
    else:
        click.echo(f"Migrated the store from schema {before or '(empty)'} to {after}.")


@db.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def check(app: AppContext, file: Path | None, as_json: bool) -> None:
    """Check the store, or the backup FILE: integrity and schema revision.

    Exits 0 when it is whole and at this ADO's schema (a backup may be older: a restore
    migrates it), 2 when it is damaged, 1 when its schema needs `ado db upgrade` or is
    newer than this ADO.
    """
    from ado.errors import StoreCorrupt, StoreError
    from ado.store.backup import newer_schema_error
    from ado.store.integrity import check_file, check_store
    from ado.vocab import SchemaState

    report = check_file(file) if file is not None else check_store(_url(app))
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(f"{report.target} ({report.kind.value})")
        click.echo(f"  schema: {report.revision or 'none'} ({report.schema.value}; "
                   f"this ADO: {report.head})")  # fmt: skip
        counted = {k: v for k, v in report.tables.items() if v is not None}
        if counted:
            click.echo("  rows: " + ", ".join(f"{k} {v}" for k, v in counted.items()))
        for problem in report.problems:
            click.echo(f"  problem: {problem}")
        if report.ok:
            click.echo("  integrity: ok")
    if not report.ok:
        raise StoreCorrupt(
            f"{report.target} is damaged: {report.problems[0]}",
            hint="restore a backup (ado db restore FILE --force); to salvage what is left of "
            "a SQLite file: sqlite3 FILE .recover",
        )
    if report.schema is SchemaState.NEWER:
        raise newer_schema_error(report.target, report.revision)
    if report.schema is SchemaState.NONE:
        raise StoreError(f"{report.target} holds no ADO store (no schema revision)")
    if report.schema is SchemaState.BEHIND and file is None:
        raise StoreError(
            f"the store's schema {report.revision} is older than this ADO's ({report.head})",
            hint="run `ado db upgrade`",
        )
