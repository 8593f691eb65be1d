"""`neweid offices generate`: one household registration office per township (368), for a new system.

Without ``--by`` the offices are made as a bootstrap step (audit actor ``cli``); with ``--by USERNAME``
as that MOI administrator's action. Townships that have an office already are left alone, so the command
can run again at any time. It prints one line; errors are one line on stderr and exit status 1.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from neweid.cli.common import fail
from neweid.cli.server import migrate_if_needed, setup_django

app = typer.Typer(no_args_is_help=True, help="household registration offices")


@app.callback()
def offices() -> None:
    """Household registration offices (戶政事務所)."""


def _staff(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        fail(f"no active staff account {username!r}")
    return user


@app.command("generate")
def generate(by: Annotated[str | None, typer.Option(help="username of the MOI administrator acting "
                                                        "(default: a bootstrap step, actor 'cli')")] = None,
             ) -> None:
    """Create the office of every township that has none (code <township code>01)."""
    setup_django()
    migrate_if_needed()
    from neweid.server.accounts.models import Office
    from neweid.server.accounts.offices import bootstrap_township_offices, do_create_township_offices
    from neweid.server.errors import ServerError

    try:
        created = (bootstrap_township_offices() if by is None
                   else do_create_township_offices(acting_user=_staff(by)))
    except ServerError as exc:
        fail(f"{exc.code.value} {exc.message}")
    typer.echo(f"{created} office(s) created; {Office.objects.count()} in all")
