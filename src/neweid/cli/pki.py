"""`neweid pki ...`: the local test PKI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neweid.cli import eac
from neweid.cli.common import PkiOption, open_pki

app = typer.Typer(no_args_is_help=True, help="Test PKI: CSCA and Document Signer (PKI-4), EAC PKI (PKI-5).")
app.add_typer(eac.app, name="eac")


@app.command("export-csca")
def export_csca(
    out: Annotated[Path, typer.Option("--out", help="where to write the CSCA certificate (PEM)")],
    pki: PkiOption = None,
) -> None:
    """Write the CSCA certificate (the trust anchor for Passive Authentication)."""
    out.write_bytes(open_pki(pki).export_csca_pem())
    typer.echo(str(out))
