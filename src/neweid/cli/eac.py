"""`neweid pki eac ...`: the EAC PKI (CVCA, DVs, terminals) in the test PKI directory (PKI-5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from neweid.cli.common import PkiOption, default_pki_dir, fail, utc_now
from neweid.crypto.cvc import curve_from_domain
from neweid.crypto.errors import CryptoError
from neweid.formats.chat import ALL_RIGHTS, FIELD_RIGHTS, READ_RIGHTS, NeidRight, Role
from neweid.formats.cvc import (
    CvCertificate,
    CvcFormatError,
    CvPublicKey,
    CvRequest,
    decode_cv_certificate,
    decode_cv_request,
)
from neweid.pki.eac import CVCA_DAYS, DV_DAYS, EacPki
from neweid.pki.errors import PkiError

app = typer.Typer(no_args_is_help=True, help="EAC PKI: CVCA, Document Verifiers and terminal CV "
                                             "certificates (PKI-5).")

_ALGORITHMS = {f"0.4.0.127.0.7.2.2.2.2.{i}": f"id-TA-ECDSA-SHA-{h}"
               for i, h in ((1, "1"), (2, "224"), (3, "256"), (4, "384"), (5, "512"))}
_TERMINAL_TYPES = {"0.4.0.127.0.7.3.1.2.1": "id-IS", "0.4.0.127.0.7.3.1.2.2": "id-AT",
                   "0.4.0.127.0.7.3.1.2.3": "id-ST", "2.16.886.1.100.1.1": "id-NEID-Terminal"}

FieldsOption = Annotated[str | None, typer.Option(
    "--fields", help="rights, comma-separated: " + ", ".join(FIELD_RIGHTS)
    + ", the update/PIN rights by name (e.g. update_address, pin_management), 'read' or 'all'")]


def parse_rights(text: str) -> NeidRight:
    """``spouse,father`` / ``read`` / ``all`` / NeidRight member names (case-insensitive)."""
    rights = NeidRight.NONE
    unknown = []
    for name in (n.strip().lower() for n in text.split(",") if n.strip()):
        if name in FIELD_RIGHTS:
            rights |= FIELD_RIGHTS[name]
        elif name == "all":
            rights |= ALL_RIGHTS
        elif name == "read":
            rights |= READ_RIGHTS
        elif name.upper() in NeidRight.__members__ and name != "none":
            rights |= NeidRight[name.upper()]
        else:
            unknown.append(name)
    if unknown:
        raise ValueError(f"unknown right(s) {', '.join(unknown)}; choose from {', '.join(FIELD_RIGHTS)}, "
                         "read, all or a right's name such as update_address")
    return rights


def _open(pki: Path | None, create: bool = False) -> EacPki:
    directory = pki or default_pki_dir()
    if not create and not EacPki.exists(directory):
        fail(f"no EAC PKI in {directory}: run `neweid pki eac init --pki {directory}` first")
    try:
        return EacPki.open_or_create(directory, now=utc_now())
    except PkiError as exc:
        fail(str(exc))


def _rights(fields: str | None, default: NeidRight) -> NeidRight:
    if fields is None:
        return default
    try:
        return parse_rights(fields)
    except ValueError as exc:
        fail(str(exc))


@app.command("init")
def init(pki: PkiOption = None,
         days: Annotated[int, typer.Option("--days", help="CVCA validity in days")] = CVCA_DAYS) -> None:
    """Create the CVCA (and the test PKI if needed); print the CVCA certificate's CHR and file."""
    directory = pki or default_pki_dir()
    existed = EacPki.exists(directory)
    try:
        eac = EacPki.open_or_create(directory, now=utc_now(), cvca_days=days)
    except PkiError as exc:
        fail(str(exc))
    cert = eac.cvca_certificate
    typer.echo(f"{'existing' if existed else 'created'} CVCA {cert.chr} (valid {cert.body.effective} to "
               f"{cert.body.expiry}): {eac.directory / 'cvca' / (cert.chr + '.cvcert')}")


@app.command("issue-dv")
def issue_dv(
    name: Annotated[str, typer.Option("--name", help="the DV's name, 1-7 letters or digits (e.g. MOI)")],
    pki: PkiOption = None,
    official: Annotated[bool, typer.Option("--official/--non-official",
                                           help="government agency (updates the chip date) or not")] = True,
    fields: FieldsOption = None,
    days: Annotated[int, typer.Option("--days", help="validity in days")] = DV_DAYS,
) -> None:
    """Issue (or renew) a Document Verifier certificate under the current CVCA (default: every right)."""
    eac = _open(pki)
    role = Role.DV_OFFICIAL if official else Role.DV_NON_OFFICIAL
    try:
        cert = eac.issue_dv(name, _rights(fields, ALL_RIGHTS), role, days)
    except PkiError as exc:
        fail(str(exc))
    typer.echo(f"issued DV {cert.chr} ({role.name.lower()}, valid to {cert.body.expiry}): "
               f"{eac.directory / 'dv' / (cert.chr + '.cvcert')}")


@app.command("issue-terminal")
def issue_terminal(
    dv: Annotated[str, typer.Option("--dv", help="the issuing DV's name")],
    fields: Annotated[str, typer.Option("--fields", help="the fields the terminal may read (e.g. "
                                                         "spouse,father) or other rights by name")],
    days: Annotated[int, typer.Option("--days", help="validity in days")],
    out: Annotated[Path, typer.Option("--out", help="new directory for the terminal's chain and key")],
    pki: PkiOption = None,
    name: Annotated[str | None, typer.Option("--name", help="holder mnemonic (default: the DV's name)")
                    ] = None,
) -> None:
    """Issue a terminal certificate and write TERMDIR: the DV and terminal certificates, the key (0600)."""
    eac = _open(pki)
    rights = _rights(fields, NeidRight.NONE)
    try:
        credentials = eac.issue_terminal(dv, rights, days, out, name=name)
    except PkiError as exc:
        fail(str(exc))
    granted = [n for n, r in FIELD_RIGHTS.items() if r in credentials.rights]
    typer.echo(f"issued terminal {credentials.chr} under {credentials.dv_certificate.chr} (fields: "
               f"{', '.join(granted) or 'none'}; valid to {credentials.certificate.body.expiry}): {out}")


@app.command("link")
def link(pki: PkiOption = None,
         days: Annotated[int, typer.Option("--days", help="new CVCA validity in days")] = CVCA_DAYS) -> None:
    """Roll the CVCA key over: a new CVCA certificate and a link certificate signed by the old key."""
    eac = _open(pki)
    try:
        new, linked = eac.link(days=days)
    except PkiError as exc:
        fail(str(exc))
    cvca_dir = eac.directory / "cvca"
    typer.echo(f"new CVCA {new.chr}: {cvca_dir / (new.chr + '.cvcert')}; link certificate "
               f"{linked.car} → {linked.chr}: {cvca_dir / (new.chr + '-link.cvcert')}")


def _key_json(key: CvPublicKey) -> dict[str, Any]:
    out: dict[str, Any] = {"algorithm": _ALGORITHMS.get(key.oid, key.oid), "point_bytes": len(key.point)}
    if key.domain is not None:
        try:
            out["domain_parameters"] = curve_from_domain(key.domain).name
        except CryptoError:
            out["domain_parameters"] = f"explicit, p of {key.domain.p.bit_length()} bits"
    return out


def certificate_json(cert: CvCertificate) -> dict[str, Any]:
    """A CV certificate as plain data (what `print` shows)."""
    body, chat = cert.body, cert.body.chat
    out: dict[str, Any] = {
        "type": "CV certificate", "profile_identifier": body.profile_id, "car": body.car, "chr": body.chr,
        "public_key": _key_json(body.public_key),
        "chat": {"terminal_type": _TERMINAL_TYPES.get(chat.terminal_type, chat.terminal_type),
                 "role": chat.role.name, "discretionary_data": chat.discretionary.hex().upper()},
        "effective": body.effective.isoformat(), "expiry": body.expiry.isoformat(),
        "signature_bytes": len(cert.signature),
    }
    if chat.is_neid:
        out["chat"]["rights"] = [r.name for r in NeidRight if r and r in chat.rights]
    if body.extensions is not None:
        out["extensions"] = body.extensions.hex().upper()
    if body.chr != body.car and chat.role is Role.CVCA:
        out["link_certificate"] = True
    return out


def request_json(request: CvRequest) -> dict[str, Any]:
    body = request.body
    out: dict[str, Any] = {"type": "CV certificate request", "profile_identifier": body.profile_id,
                           "car": body.car, "chr": body.chr, "public_key": _key_json(body.public_key),
                           "inner_signature_bytes": len(request.inner_signature)}
    if request.outer_car is not None:
        out["outer_car"] = request.outer_car
    return out


@app.command("print")
def print_certificate(
    file: Annotated[Path, typer.Argument(help="a CV certificate (.cvcert) or certificate request")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Print a CV certificate or request in human-readable form."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:
        info = certificate_json(decode_cv_certificate(data))
    except CvcFormatError as cert_error:
        try:
            info = request_json(decode_cv_request(data))
        except CvcFormatError:
            fail(f"{file} is not a CV certificate: {cert_error}")
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    _print_lines(info, 0)


def _print_lines(info: dict[str, Any], indent: int) -> None:
    for key, value in info.items():
        label = " " * indent + key.replace("_", " ")
        if isinstance(value, dict):
            typer.echo(f"{label}:")
            _print_lines(value, indent + 2)
        elif isinstance(value, list):
            typer.echo(f"{label}: {', '.join(str(v) for v in value) or '-'}")
        else:
            typer.echo(f"{label}: {value}")
