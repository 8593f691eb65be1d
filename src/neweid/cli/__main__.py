"""`python -m neweid.cli`: the same as the `neweid` command."""

from neweid.cli.main import app

app()
