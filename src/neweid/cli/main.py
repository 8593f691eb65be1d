"""The `neweid` command (thin layer over the libraries)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="neweid: Taiwan New eID reference system")


@app.command()
def demo() -> None:
    """Narrated end-to-end run of what exists."""
    typer.echo("neweid demo")
