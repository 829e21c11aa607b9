"""``ado tokens create|list|revoke``: the API tokens ``ado serve`` asks for off loopback."""

from __future__ import annotations

import click

from ado.cli.context import AppContext, console


@click.group()
def tokens() -> None:
    """API tokens for `ado serve` (required when it listens beyond loopback)."""


@tokens.command()
@click.argument("name")
@click.pass_obj
def create(app: AppContext, name: str) -> None:
    """Create a token named NAME and print it (once: only its hash is stored)."""
    view, token = app.store.create_token(name)
    click.echo(token)
    click.echo(
        f"Token {view.name!r} (id {view.id}) created. It is shown only now: keep it safe. "
        "Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@tokens.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(app: AppContext, as_json: bool) -> None:
    """The tokens: name, created, last used, revoked (never the tokens themselves)."""
    found = app.store.list_tokens()
    if as_json:
        from ado.api import wire

        click.echo(wire.dumps(wire.TOKEN.many(found), indent=2))
        return
    if not found:
        click.echo("No API tokens. Create one with: ado tokens create NAME")
        return
    from rich.table import Table

    table = Table(title="API tokens", title_justify="left")
    for col in ("id", "name", "created", "last used", "revoked"):
        table.add_column(col)
    for t in found:
        table.add_row(
            str(t.id),
            t.name,
            f"{t.created_at:%Y-%m-%d %H:%M UTC}",
            f"{t.last_used_at:%Y-%m-%d %H:%M UTC}" if t.last_used_at else "-",
            f"{t.revoked_at:%Y-%m-%d %H:%M UTC}" if t.revoked_at else "-",
        )
    console().print(table)


@tokens.command()
@click.argument("name_or_id")
@click.pass_obj
def revoke(app: AppContext, name_or_id: str) -> None:
    """Revoke the token NAME (or ID): requests carrying it are refused from now on."""
    view = app.store.revoke_token(name_or_id)
    click.echo(f"Token {view.name!r} (id {view.id}) revoked.")
