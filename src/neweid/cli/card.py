"""`neweid card ...`: personalise, read, sign with and serve virtual cards."""

from __future__ import annotations

import json
import random
import secrets
import signal
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from neweid.card import CardImageError, VirtualCard
from neweid.cli.common import PkiOption, fail, household_json, open_pki, public_json, utc_now
from neweid.formats.filemap import Interface
from neweid.pki.eac import EacPki, EacPkiError, TerminalCredentials, load_cvca_certificates
from neweid.pki.testpki import TestPki
from neweid.population.photo import make_photo
from neweid.population.synthetic import generate_citizen
from neweid.production.card_data import CardSecrets, card_content
from neweid.production.certificates import IssuerError
from neweid.production.dev_issuer import DevelopmentIssuer
from neweid.production.personalise import PersonalisationError, personalise
from neweid.terminal.certzone import CertificateKey
from neweid.terminal.errors import ReaderError
from neweid.terminal.reader import EncryptedFields, NewEidReader
from neweid.terminal.transport import InProcessTransport, Transport

app = typer.Typer(no_args_is_help=True, help="Virtual New eID cards: personalise, read, serve.")


class ZoneChoice(StrEnum):
    household = "household"
    public = "public"
    encrypted = "encrypted"


class SigningKeyChoice(StrEnum):
    rsa_sign = "rsa-sign"
    ec_sign = "ec-sign"


class InterfaceChoice(StrEnum):
    contact = "contact"
    contactless = "contactless"


def make_card(out: Path, pki: TestPki, seed: int | None, *, certificate: bool = True) -> dict[str, Any]:
    """Personalise a new virtual card for a synthetic citizen; returns what was set.

    The CVCA trust points of the EAC PKI in the same directory (``neweid pki eac init``) are installed
    when it exists; the certificate zone is filled from the development citizen issuer unless
    ``certificate`` is False (the citizen opted out: the zone stays closed)."""
    rng = random.Random(seed if seed is not None else secrets.randbits(64))  # noqa: S311 - test data
    now = utc_now()
    citizen = generate_citizen(rng, today=now.date())
    photo = make_photo(rng, citizen)
    card_secrets = CardSecrets.generate(rng, citizen.card_serial)
    if out.exists():
        fail(f"{out} exists; refusing to overwrite a card image")
    cvcas = load_cvca_certificates(pki.directory)[-2:] if EacPki.exists(pki.directory) else []
    issuer = DevelopmentIssuer.open_or_create(pki.directory, now=now) if certificate else None
    card = VirtualCard.create(out)
    transport = InProcessTransport(card, Interface.CONTACT)
    try:
        personalise(transport, card_content(citizen, photo), card_secrets, pki.document_signer, now=now,
                    cvca_certificates=cvcas, certificate_issuer=issuer)
    finally:
        transport.close()
    return {"serial": citizen.card_serial, "can": card_secrets.can, "pin1": card_secrets.pin1,
            "pin2": card_secrets.pin2, "user_code": card_secrets.user_code,
            "name": citizen.surname + citizen.given_name, "image": str(out),
            "cvca_trust_points": len(cvcas), "certificate_zone": "open" if certificate else "closed"}


@app.command("new")
def new(
    out: Annotated[Path, typer.Option("--out", help="card image to create")],
    pki: PkiOption = None,
    seed: Annotated[int | None, typer.Option("--seed", help="seed for a reproducible citizen")] = None,
    no_certificate: Annotated[bool, typer.Option(
        "--no-certificate", help="the citizen opts out of the citizen certificate: the certificate zone "
                                 "stays closed (MGMT-5)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON object")] = False,
) -> None:
    """Personalise a virtual card with a synthetic citizen under a local test PKI.

    Installs the CVCA trust point when the PKI directory holds an EAC PKI (`neweid pki eac init`), and
    fills the certificate zone (4 on-card key pairs, 6 certificates from the development citizen
    issuer) unless --no-certificate."""
    test_pki = open_pki(pki)
    try:
        result = make_card(out, test_pki, seed, certificate=not no_certificate)
    except (PersonalisationError, CardImageError, ReaderError, EacPkiError, IssuerError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"card image   {result['image']}")
    typer.echo(f"holder       {result['name']}")
    for key, label in (("serial", "card serial"), ("can", "CAN"), ("pin1", "PIN1"), ("pin2", "PIN2"),
                       ("user_code", "user code"), ("cvca_trust_points", "CVCA points"),
                       ("certificate_zone", "cert zone")):
        typer.echo(f"{label:<12} {result[key]}")


def _transport(image: Path | None, reader: str | None, interface: InterfaceChoice) -> Transport:
    iface = Interface(interface.value)
    if (image is None) == (reader is None):
        fail("give either a card IMAGE or --reader NAME")
    if reader is not None:
        from neweid.terminal.pcsc import PcscTransport  # optional extra

        try:
            return PcscTransport(reader, interface=iface)
        except ReaderError as exc:
            fail(str(exc))
    assert image is not None
    try:
        card = VirtualCard.load(image)
    except CardImageError as exc:
        fail(str(exc))
    return InProcessTransport(card, iface)


def _trust_anchors(pki: Path | None, csca: Path | None) -> list[x509.Certificate]:
    if csca is not None:
        try:
            return [x509.load_pem_x509_certificate(csca.read_bytes())]
        except (OSError, ValueError) as exc:
            fail(f"cannot load the CSCA certificate {csca}: {exc}")
    return [open_pki(pki).csca_certificate]


@app.command("read")
def read(
    image: Annotated[Path | None, typer.Argument(help="card image (or use --reader)")] = None,
    reader: Annotated[str | None, typer.Option("--reader", help="PC/SC reader name")] = None,
    can: Annotated[str | None, typer.Option("--can", help="card access number (public and encrypted "
                                                          "zones)")] = None,
    zone: Annotated[ZoneChoice, typer.Option("--zone")] = ZoneChoice.public,
    interface: Annotated[InterfaceChoice | None, typer.Option(
        "--interface", help="default: contactless, contact for the encrypted zone")] = None,
    pin1: Annotated[str | None, typer.Option("--pin1", help="the citizen's PIN1 (encrypted zone)")] = None,
    terminal: Annotated[Path | None, typer.Option(
        "--terminal", help="terminal credentials directory (`neweid pki eac issue-terminal --out`)")] = None,
    pki: PkiOption = None,
    csca: Annotated[Path | None, typer.Option("--csca", help="CSCA certificate (PEM) to trust")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Read a zone, verifying it (Passive Authentication; Active Authentication for the public zone).

    The encrypted zone (contact interface only) needs --can, --pin1 and --terminal: PACE, Terminal
    Authentication with the terminal's CV chain, Chip Authentication against EF.CardSecurity, PIN1;
    only the fields the terminal's CHAT grants are read and printed."""
    anchors = _trust_anchors(pki, csca)
    if interface is None:
        interface = InterfaceChoice.contact if zone is ZoneChoice.encrypted else InterfaceChoice.contactless
    credentials = None
    if zone is ZoneChoice.encrypted:
        if can is None or pin1 is None or terminal is None:
            fail("the encrypted zone needs --can, --pin1 and --terminal TERMDIR")
        try:
            credentials = TerminalCredentials.load(terminal)
        except EacPkiError as exc:
            fail(str(exc))
    transport = _transport(image, reader, interface)
    result: dict[str, Any]
    try:
        with NewEidReader(transport, anchors) as card_reader:
            if zone is ZoneChoice.encrypted:
                assert can is not None and pin1 is not None and credentials is not None
                card_reader.open_with_can(can)
                card_reader.authenticate_terminal(credentials)
                fields = card_reader.read_encrypted(pin1)
                result = {"zone": "encrypted", "terminal": fields.terminal_chr,
                          "granted": list(fields.fields_read), "terminal_authentication": "ok",
                          "chip_authentication": "ok", "passive_authentication": "ok",
                          "data": encrypted_json(fields)}
            elif zone is ZoneChoice.household:
                result = {"zone": "household", "passive_authentication": "ok",
                          "data": household_json(card_reader.read_household())}
            else:
                if can is None:
                    fail("the public zone needs --can (the last 6 digits of the card serial)")
                card_reader.open_with_can(can)
                public = card_reader.read_public()
                card_reader.active_authentication()
                result = {"zone": "public", "passive_authentication": "ok",
                          "active_authentication": "ok", "data": public_json(public)}
    except ReaderError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_tree(result["data"])
    typer.echo("verified: " + ", ".join(k.replace("_", " ") for k in result if k.endswith("authentication")))


def encrypted_json(fields: EncryptedFields) -> dict[str, Any]:
    """Only the fields that were read (granted); nothing about the others."""
    data: dict[str, Any] = {}
    for name, value in (("spouse", fields.spouse), ("father", fields.father), ("mother", fields.mother)):
        if value is not None:
            data[name] = value.name
    if fields.birthplace is not None:
        data["birthplace"] = {"county_code": fields.birthplace.county_code, "name": fields.birthplace.name}
    if fields.sex is not None:
        data["sex"] = fields.sex.sex.value
    if fields.can is not None:
        data["can"] = fields.can.can
    return data


def _open_contact(image: Path | None, reader: str | None, can: str, pki: Path | None,
                  csca: Path | None) -> NewEidReader:
    card_reader = NewEidReader(_transport(image, reader, InterfaceChoice.contact), _trust_anchors(pki, csca))
    try:
        card_reader.open_with_can(can)
    except ReaderError:
        card_reader.close()
        raise
    return card_reader


@app.command("sign")
def sign(
    image: Annotated[Path | None, typer.Argument(help="card image (or use --reader)")] = None,
    reader: Annotated[str | None, typer.Option("--reader", help="PC/SC reader name")] = None,
    can: Annotated[str, typer.Option("--can", help="card access number: PACE opens the secure channel")] = "",
    pin2: Annotated[str, typer.Option("--pin2", help="the citizen's PIN2 (8-12 digits)")] = "",
    key: Annotated[SigningKeyChoice, typer.Option("--key")] = SigningKeyChoice.rsa_sign,
    infile: Annotated[Path, typer.Option("--in", help="document to sign")] = Path("-"),
    out: Annotated[Path, typer.Option("--out", help="where to write the signature")] = Path("-"),
    pki: PkiOption = None,
    csca: Annotated[Path | None, typer.Option("--csca", help="CSCA certificate (PEM) to trust")] = None,
) -> None:
    """Sign a document with an on-card key (contact interface; PACE with --can, then PIN2).

    The document is hashed here (SHA-256 for rsa-sign, SHA-512 for ec-sign); the chip signs the hash
    (RSA PKCS#1 v1.5, or ECDSA written as DER). The private key never leaves the chip."""
    if not can or not pin2:
        fail("signing needs --can (secure channel) and --pin2")
    try:
        document = infile.read_bytes()
    except OSError as exc:
        fail(f"cannot read {infile}: {exc.strerror}")
    try:
        with _open_contact(image, reader, can, pki, csca) as card_reader:
            zone = card_reader.certificate_zone()
            zone.verify_pin2(pin2)
            signature = zone.sign(document, CertificateKey(key.value))
    except ReaderError as exc:
        fail(str(exc))
    try:
        out.write_bytes(signature)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}")
    typer.echo(f"signed {len(document)} bytes with the card's {key.value} key: {out}")


@app.command("verify")
def verify(
    image: Annotated[Path | None, typer.Argument(help="card image (or use --reader, or --cert)")] = None,
    reader: Annotated[str | None, typer.Option("--reader", help="PC/SC reader name")] = None,
    can: Annotated[str | None, typer.Option("--can", help="card access number (to read the certificate)")
                   ] = None,
    cert: Annotated[Path | None, typer.Option("--cert", help="verify with this certificate (PEM or DER) "
                                                            "instead of reading it from the card")] = None,
    key: Annotated[SigningKeyChoice, typer.Option("--key")] = SigningKeyChoice.rsa_sign,
    infile: Annotated[Path, typer.Option("--in", help="the signed document")] = Path("-"),
    sig: Annotated[Path, typer.Option("--sig", help="the signature")] = Path("-"),
    pki: PkiOption = None,
    csca: Annotated[Path | None, typer.Option("--csca", help="CSCA certificate (PEM) to trust")] = None,
) -> None:
    """Verify a signature made by `neweid card sign` with the key's certificate.

    The certificate (CERT3 for rsa-sign, CERT5 for ec-sign) is read from the card: certificates need the
    secure channel (PACE with --can, contact interface) but no PIN. With --cert no card is needed."""
    try:
        document, signature = infile.read_bytes(), sig.read_bytes()
    except OSError as exc:
        fail(f"cannot read {exc.filename}: {exc.strerror}")
    usage = CertificateKey(key.value)
    if cert is not None:
        try:
            raw = cert.read_bytes()
            certificate = (x509.load_pem_x509_certificate(raw) if raw.startswith(b"-----")
                           else x509.load_der_x509_certificate(raw))
        except (OSError, ValueError) as exc:
            fail(f"cannot load the certificate {cert}: {exc}")
    else:
        if can is None:
            fail("reading the certificate from the card needs --can (or give --cert)")
        try:
            with _open_contact(image, reader, can, pki, csca) as card_reader:
                certificate = card_reader.certificate_zone().certificate_for(usage)
        except ReaderError as exc:
            fail(str(exc))
    try:
        verify_signature(certificate, usage, document, signature)
    except InvalidSignature:
        fail("signature INVALID: it was not made by this key over this document")
    except (TypeError, ValueError) as exc:
        fail(f"cannot verify: {exc}")
    subject = certificate.subject.rfc4514_string()
    typer.echo(f"signature valid: {usage.value} key of {subject} "
               f"(certificate serial {certificate.serial_number:x})")


def verify_signature(certificate: x509.Certificate, usage: CertificateKey, document: bytes,
                     signature: bytes) -> None:
    """Raise InvalidSignature unless ``signature`` is the ``usage`` key's signature of ``document``."""
    public_key = certificate.public_key()
    algorithm = usage.default_hash
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, document, padding.PKCS1v15(), algorithm)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, document, ec.ECDSA(algorithm))
    else:
        raise TypeError(f"the certificate holds a {type(public_key).__name__}, not an RSA or EC key")


def _print_tree(data: dict[str, Any], indent: str = "") -> None:
    for key, value in data.items():
        if isinstance(value, dict):
            if {"iso", "minguo"} <= value.keys():
                typer.echo(f"{indent}{key}: {value['minguo']} ({value['western']})")
            elif {"zh", "en"} <= value.keys():
                typer.echo(f"{indent}{key}: {value['zh']} / {value['en']}")
            else:
                typer.echo(f"{indent}{key}:")
                _print_tree(value, indent + "  ")
        else:
            typer.echo(f"{indent}{key}: {'—' if value is None else value}")


@app.command("serve")
def serve(
    image: Annotated[Path, typer.Argument(help="card image")],
    vpcd: Annotated[str, typer.Option("--vpcd", help="HOST:PORT of vsmartcard's vpcd")] = "127.0.0.1:35963",
    interface: Annotated[InterfaceChoice, typer.Option("--interface")] = InterfaceChoice.contact,
) -> None:
    """Connect the card to vpcd so that pcscd serves it to any PC/SC application (Ctrl-C stops)."""
    from neweid.card.vpcd import serve_vpcd

    host, _, port_text = vpcd.rpartition(":")
    if not host or not port_text.isdigit():
        fail(f"--vpcd must be HOST:PORT, not {vpcd!r}")
    try:
        card = VirtualCard.load(image)
    except CardImageError as exc:
        fail(str(exc))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo(f"serving {image} ({interface.value}) to vpcd at {host}:{port_text}; Ctrl-C stops", err=True)
    try:
        serve_vpcd(card, host, int(port_text), Interface(interface.value), stop=stop)
    except KeyboardInterrupt:
        stop.set()
