"""`neweid serve`, `neweid audit verify` and `neweid manage ...`: the management system's commands."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from neweid.cli.common import fail

SETTINGS_MODULE = "neweid.server.settings"

app = typer.Typer(no_args_is_help=True, help="the New eID management system (Django)")
audit_app = typer.Typer(no_args_is_help=True, help="the hash-chained audit log")


def setup_django() -> None:
    """Configure Django with the neweid settings (DATABASE_URL, NEWEID_HOME ...) once."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def migrate_if_needed() -> bool:
    """Apply pending migrations; True when there were some."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return False
    call_command("migrate", interactive=False, verbosity=0)
    return True


def _print_accounts(console: Console, reset: bool) -> None:
    from neweid.server.accounts.demo import ensure_demo_data
    from neweid.server.accounts.roles import ROLE_LABELS

    accounts = ensure_demo_data(reset_credentials=reset)
    console.print("demo staff accounts (credentials are shown once, when made; add the TOTP secret to an "
                  "authenticator app):")
    for account in accounts:
        role = ROLE_LABELS[account.role][1]
        line = f"  {account.username:<24} {role:<20} office {account.office or '-':<10}"
        if account.password is None:
            line += " (existing: credentials unchanged)"
        else:
            line += f" password {account.password}  TOTP secret {account.totp_secret}"
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if any(a.password is None for a in accounts):
        console.print("--reset-demo-credentials gives the demo accounts new credentials")
    from neweid.server.accounts.demo import demo_hints

    for line in demo_hints().lines():
        console.print(line, markup=False, highlight=False)


ResetOption = Annotated[bool, typer.Option(help="new passwords and TOTP secrets for the demo accounts")]


@app.command("serve")
def serve(port: Annotated[int, typer.Option(help="TCP port")] = 8000,
          host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          demo: Annotated[bool, typer.Option(help="create the demo offices and staff accounts")] = True,
          reset_demo_credentials: ResetOption = False,
          ) -> None:
    """Migrate if needed, make the demo data, and serve the console (/) and API (/api/)."""
    if host not in {"127.0.0.1", "localhost", "::1"}:
        existing = os.environ.get("NEWEID_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
        os.environ["NEWEID_ALLOWED_HOSTS"] = f"{existing},{host}"
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    console = Console()
    database = settings.DATABASES["default"]
    console.print(f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database.get('NAME', '')}")
    if migrate_if_needed():
        console.print("database migrated")
    if demo:
        _print_accounts(console, reset_demo_credentials)
    address = f"[{host}]" if ":" in host else host
    console.print(f"console: http://{address}:{port}/   API schema: http://{address}:{port}/api/openapi.json")
    call_command("runserver", f"{address}:{port}", use_reloader=False, use_threading=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check every entry's hash and link; exit 1 with the first broken entry."""
    setup_django()
    from neweid.server.audit.verify import verify_chain

    result = verify_chain()
    if result.broken is not None:
        fail(f"audit chain broken at entry {result.broken.seq}: {result.broken.reason.value} "
             f"({result.broken.detail}); {result.entries} entries verified before it")
    typer.echo(f"audit chain intact: {result.entries} entries, last {result.last_seq}")


def manage(ctx: typer.Context) -> None:
    """Pass the arguments to Django's management commands (e.g. `neweid manage migrate`)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["neweid manage", *ctx.args])


MANAGE_CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}

app.add_typer(audit_app, name="audit")
app.command("manage", context_settings=MANAGE_CONTEXT)(manage)
