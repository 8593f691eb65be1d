"""The `neweid` command: a thin layer over the libraries."""

from __future__ import annotations

import logging

import typer

from neweid.cli import ca, card, cards, demo, offices, pki, population, server

app = typer.Typer(no_args_is_help=True, help="neweid: Taiwan New eID reference system",
                  pretty_exceptions_enable=False)
app.add_typer(card.app, name="card")
app.add_typer(pki.app, name="pki")
app.add_typer(ca.app, name="ca")
app.add_typer(cards.app, name="cards")
app.add_typer(offices.app, name="offices")
app.add_typer(population.app, name="population")
app.add_typer(server.audit_app, name="audit")
app.command("demo")(demo.demo)
app.command("serve")(server.serve)
app.command("manage", context_settings=server.MANAGE_CONTEXT)(server.manage)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="log to stderr")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
