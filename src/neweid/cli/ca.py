"""`neweid ca ...`: the citizen-certificate CA (PKI-1..3, PKI-6): init, export, issue, suspend, resume,
revoke, reissue, status, crl, ocsp-serve.

The CA keys live in ``DIR/keys`` (encrypted with ``NEWEID_KEYSTORE_PASSPHRASE``, or the public test
passphrase when it is unset). Serial numbers are hexadecimal, as OpenSSL prints them.
Card dates for CARD-10: ``--card-issued`` (default: today in Taiwan) and ``--card-renewal`` (a date, or
``none`` for applicants of 65 or more; default: 10 years after the issue date, an adult's card).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from neweid.cli.common import fail, utc_now
from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.hierarchy import CaHierarchy
from neweid.pki.ca.ocsp_http import OcspHttpServer, listen
from neweid.pki.ca.profiles import CaUrls, CertificateUsage, Subscriber
from neweid.pki.ca.registry import RevocationReason
from neweid.pki.ca.validity import TAIPEI, CardValidity, add_years
from neweid.pki.errors import PkiError
from neweid.pki.keystore import FileKeyStore, passphrase_from_environment

app = typer.Typer(no_args_is_help=True,
                  help="Citizen-certificate CA: issue, suspend/resume/revoke, CRL, OCSP.")

_log = logging.getLogger(__name__)

DirOption = Annotated[Path, typer.Option("--dir", help="the CA directory")]
OperatorOption = Annotated[str, typer.Option("--operator", help="operator id written to the audit log")]

_REASONS = {
    "unspecified": RevocationReason.UNSPECIFIED,
    "keycompromise": RevocationReason.KEY_COMPROMISE,
    "cacompromise": RevocationReason.CA_COMPROMISE,
    "affiliationchanged": RevocationReason.AFFILIATION_CHANGED,
    "superseded": RevocationReason.SUPERSEDED,
    "cessationofoperation": RevocationReason.CESSATION_OF_OPERATION,
    "privilegewithdrawn": RevocationReason.PRIVILEGE_WITHDRAWN,
    "aacompromise": RevocationReason.AA_COMPROMISE,
}


_REASON_HELP = "RFC 5280 reason: keyCompromise, cessationOfOperation, privilegeWithdrawn, superseded, ..."


def _store(directory: Path) -> FileKeyStore:
    return FileKeyStore(directory / "keys", passphrase_from_environment())


@contextmanager
def _open(directory: Path) -> Iterator[CaDirectory]:
    try:
        ca = CaDirectory.open(directory, _store(directory), clock=utc_now)
    except PkiError as exc:
        fail(str(exc))
    try:
        yield ca
    except PkiError as exc:
        fail(str(exc))
    finally:
        ca.close()


def _serial(text: str) -> int:
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    try:
        value = int(cleaned, 16)
    except ValueError:
        fail(f"not a hexadecimal serial number: {text!r}")
    if value <= 0:
        fail("a serial number must be positive")
    return value


def _date(text: str, option: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} must be a date YYYY-MM-DD, not {text!r}")


def _end_of(text: str) -> datetime.datetime:
    """``--not-after``: a date (the end of that day in Taiwan) or an ISO datetime with a zone."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        fail(f"--not-after must be YYYY-MM-DD or an ISO datetime, not {text!r}")
    if len(text) == 10:
        return datetime.datetime.combine(moment.date(), datetime.time(23, 59, 59), TAIPEI)
    if moment.tzinfo is None:
        fail("--not-after with a time needs a zone (e.g. +08:00 or Z)")
    return moment


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")


@app.command("init")
def init(
    directory: DirOption,
    base_url: Annotated[str, typer.Option("--base-url", help="base of the OCSP, CRL and caIssuers URLs")]
    = "http://127.0.0.1:8080/",
) -> None:
    """Create the root CA, the issuing CA and the OCSP responder certificate in DIR."""
    try:
        urls = CaUrls(base_url)
        ca = CaDirectory.init(directory, _store(directory), now=utc_now(), urls=urls, clock=utc_now)
    except PkiError as exc:
        fail(str(exc))
    ca.close()
    typer.echo(str(directory))


@app.command("export")
def export(directory: DirOption,
           out: Annotated[Path, typer.Option("--out", help="where to write the chain (PEM)")]) -> None:
    """Write the issuing CA and root certificates (PEM) to CHAIN.pem."""
    try:
        hierarchy = CaHierarchy.open(directory, _store(directory))
    except PkiError as exc:
        fail(str(exc))
    _write(out, hierarchy.chain_pem())
    typer.echo(str(out))


@app.command("issue")
def issue(
    directory: DirOption,
    csr: Annotated[Path, typer.Option("--csr", help="PKCS#10 request (PEM or DER)")],
    name: Annotated[str, typer.Option("--name", help="the citizen's name (Chinese or English)")],
    id_number: Annotated[str, typer.Option("--id-number", help="ID number; only its last 4 are kept")],
    card_serial: Annotated[str, typer.Option("--card-serial", help="New eID card serial number")],
    usage: Annotated[CertificateUsage, typer.Option("--usage", help="sign or encrypt")],
    out: Annotated[Path, typer.Option("--out", help="where to write the certificate (PEM)")],
    not_after: Annotated[str | None, typer.Option("--not-after", help="earlier end of validity")] = None,
    card_issued: Annotated[str | None, typer.Option("--card-issued", help="card issue date")] = None,
    card_renewal: Annotated[str | None, typer.Option("--card-renewal", help="card renewal date or 'none'")]
    = None,
    email: Annotated[str | None, typer.Option("--email", help="contact e-mail")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="contact mobile phone")] = None,
    operator: OperatorOption = "cli",
) -> None:
    """Issue a citizen certificate from a CSR (CARD-10 validity); prints its serial number."""
    try:
        request = csr.read_bytes()
    except OSError as exc:
        fail(f"cannot read {csr}: {exc.strerror}")
    issued_on = (_date(card_issued, "--card-issued") if card_issued
                 else utc_now().astimezone(TAIPEI).date())
    if card_renewal is None:
        renewal: datetime.date | None = add_years(issued_on, 10)
    elif card_renewal.lower() == "none":
        renewal = None
    else:
        renewal = _date(card_renewal, "--card-renewal")
    end = _end_of(not_after) if not_after else None
    with _open(directory) as ca:
        subscriber = Subscriber.from_id_number(name, id_number, card_serial)
        card = CardValidity(issued_on, renewal)
        made = ca.ra.operator(operator).issue(request, subscriber, usage, card, not_after=end,
                                              contact_email=email, contact_phone=phone)
        _write(out, made.pem)
        typer.echo(f"{made.record.serial:x}")


@app.command("reissue")
def reissue(
    directory: DirOption,
    serial: Annotated[str, typer.Argument(help="serial of the certificate to reissue (hex)")],
    csr: Annotated[Path, typer.Option("--csr", help="PKCS#10 request for the new key")],
    out: Annotated[Path, typer.Option("--out", help="where to write the new certificate (PEM)")],
    operator: OperatorOption = "cli",
) -> None:
    """The one reissue CARD-10 allows (new key, 5 more years, never past the card's renewal date)."""
    try:
        request = csr.read_bytes()
    except OSError as exc:
        fail(f"cannot read {csr}: {exc.strerror}")
    with _open(directory) as ca:
        made = ca.ra.operator(operator).renew(_serial(serial), request)
        _write(out, made.pem)
        typer.echo(f"{made.record.serial:x}")


@app.command("suspend")
def suspend(directory: DirOption, serial: Annotated[str, typer.Argument(help="serial (hex)")],
            operator: OperatorOption = "cli") -> None:
    """Suspend a certificate (certificateHold), e.g. when the card is reported lost."""
    with _open(directory) as ca:
        record = ca.ra.operator(operator).suspend(_serial(serial))
        typer.echo(f"{record.serial:x} {record.status.value}")


@app.command("resume")
def resume(directory: DirOption, serial: Annotated[str, typer.Argument(help="serial (hex)")],
           operator: OperatorOption = "cli") -> None:
    """Resume a suspended certificate (removeFromCRL)."""
    with _open(directory) as ca:
        record = ca.ra.operator(operator).resume(_serial(serial))
        typer.echo(f"{record.serial:x} {record.status.value}")


@app.command("revoke")
def revoke(
    directory: DirOption,
    serial: Annotated[str, typer.Argument(help="serial (hex)")],
    reason: Annotated[str, typer.Option("--reason", help=_REASON_HELP)] = "unspecified",
    operator: OperatorOption = "cli",
) -> None:
    """Revoke a certificate for good."""
    code = _REASONS.get(reason.replace("-", "").replace("_", "").lower())
    if code is None:
        fail(f"unknown revocation reason {reason!r} (one of: {', '.join(sorted(_REASONS))})")
    with _open(directory) as ca:
        record = ca.ra.operator(operator).revoke(_serial(serial), code)
        typer.echo(f"{record.serial:x} {record.status.value}")


@app.command("status")
def status(directory: DirOption, serial: Annotated[str, typer.Argument(help="serial (hex)")],
           operator: OperatorOption = "cli") -> None:
    """Show a certificate's status, validity and reissue count."""
    with _open(directory) as ca:
        r = ca.ra.operator(operator).status(_serial(serial))
        reason = "" if r.reason is None else f" reason={r.reason.name.lower()}"
        typer.echo(f"{r.serial:x} {r.status.value}{reason} usage={r.usage.value} key={r.key_algorithm.value} "
                   f"not_after={r.not_after.isoformat()} reissues={r.reissue_count} published={r.published}")


@app.command("crl")
def crl(
    directory: DirOption,
    out: Annotated[Path, typer.Option("--out", help="where to write the CRL (DER)")],
    delta: Annotated[bool, typer.Option("--delta", help="a delta CRL against the latest full CRL")] = False,
    pem: Annotated[bool, typer.Option("--pem", help="write PEM instead of DER")] = False,
) -> None:
    """Issue and publish a full (or delta) CRL now and write it to FILE."""
    with _open(directory) as ca:
        issued = ca.crls.publish(utc_now(), delta=delta)
        _write(out, issued.pem if pem else issued.der)
        typer.echo(f"CRL {issued.number} ({'delta' if delta else 'full'}): {issued.entries} entries")


def _crl_loop(directory: Path, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            with CaDirectory.open(directory, _store(directory), clock=utc_now) as ca:
                now = utc_now()
                ca.crls.publish(now)
                ca.crls.publish(now, delta=True)
        except PkiError as exc:
            _log.error("scheduled CRL publication failed: %s", exc)


@app.command("ocsp-serve")
def ocsp_serve(
    directory: DirOption,
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8080,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    validity_minutes: Annotated[int, typer.Option("--validity-minutes", help="nextUpdate - thisUpdate")] = 5,
    crl_minutes: Annotated[int, typer.Option("--crl-minutes", help="publish CRLs every N minutes (0: off)")]
    = 0,
    workers: Annotated[int, typer.Option("--workers", help="processes sharing the listening socket")] = 1,
) -> None:
    """Serve OCSP (POST and GET) and the published CA certificates and CRLs at http://HOST:PORT/."""
    if validity_minutes <= 0:
        fail("--validity-minutes must be positive")
    if not 1 <= workers <= 64:
        fail("--workers must be between 1 and 64")
    validity = datetime.timedelta(minutes=validity_minutes)
    with _open(directory) as ca:
        ca.renew_ocsp_certificate(now=utc_now())
    try:
        sock = listen((host, port))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}")
    children = [] if workers == 1 else [_fork_worker(directory, sock, validity) for _ in range(workers)]
    stop = threading.Event()
    if crl_minutes > 0:
        args = (directory, crl_minutes * 60.0, stop)
        threading.Thread(target=_crl_loop, args=args, daemon=True).start()
    bound_host, bound_port = sock.getsockname()[:2]
    typer.echo(f"OCSP responder at http://{bound_host}:{bound_port}/", err=True)
    try:
        if not children:
            _serve(directory, sock, validity)
        else:
            signal.signal(signal.SIGTERM, _raise_interrupt)
            for pid in children:
                os.waitpid(pid, 0)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        sock.close()


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(directory: Path, sock: socket.socket, validity: datetime.timedelta) -> None:
    with _open(directory) as ca:
        server = OcspHttpServer(sock.getsockname()[:2], ca.ocsp_responder(validity=validity),
                                publish_dir=ca.hierarchy.publish_dir, clock=utc_now, sock=sock)
        try:
            server.serve_forever()
        finally:
            server.server_close()


def _fork_worker(directory: Path, sock: socket.socket, validity: datetime.timedelta) -> int:
    """A child process serving ``sock`` with its own CA connection and responder (pre-fork model)."""
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _serve(directory, sock, validity)
    except KeyboardInterrupt:
        pass
    except BaseException:  # a child must never return into the parent's code
        _log.exception("OCSP worker failed")
        code = 1
    finally:
        os._exit(code)
