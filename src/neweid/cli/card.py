"""`neweid card ...`: personalise, read and serve virtual cards."""

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

from neweid.card import CardImageError, VirtualCard
from neweid.cli.common import PkiOption, fail, household_json, open_pki, public_json, utc_now
from neweid.formats.filemap import Interface
from neweid.pki.testpki import TestPki
from neweid.population.photo import make_photo
from neweid.population.synthetic import generate_citizen
from neweid.production.card_data import CardSecrets, card_content
from neweid.production.personalise import PersonalisationError, personalise
from neweid.terminal.errors import ReaderError
from neweid.terminal.reader import NewEidReader
from neweid.terminal.transport import InProcessTransport, Transport

app = typer.Typer(no_args_is_help=True, help="Virtual New eID cards: personalise, read, serve.")


class ZoneChoice(StrEnum):
    household = "household"
    public = "public"


class InterfaceChoice(StrEnum):
    contact = "contact"
    contactless = "contactless"


def make_card(out: Path, pki: TestPki, seed: int | None) -> dict[str, Any]:
    """Personalise a new virtual card for a synthetic citizen; returns what was set."""
    rng = random.Random(seed if seed is not None else secrets.randbits(64))  # noqa: S311 - test data
    now = utc_now()
    citizen = generate_citizen(rng, today=now.date())
    photo = make_photo(rng, citizen)
    card_secrets = CardSecrets.generate(rng, citizen.card_serial)
    if out.exists():
        fail(f"{out} exists; refusing to overwrite a card image")
    card = VirtualCard.create(out)
    transport = InProcessTransport(card, Interface.CONTACT)
    try:
        personalise(transport, card_content(citizen, photo), card_secrets, pki.document_signer, now=now)
    finally:
        transport.close()
    return {"serial": citizen.card_serial, "can": card_secrets.can, "pin1": card_secrets.pin1,
            "pin2": card_secrets.pin2, "user_code": card_secrets.user_code,
            "name": citizen.surname + citizen.given_name, "image": str(out)}


@app.command("new")
def new(
    out: Annotated[Path, typer.Option("--out", help="card image to create")],
    pki: PkiOption = None,
    seed: Annotated[int | None, typer.Option("--seed", help="seed for a reproducible citizen")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON object")] = False,
) -> None:
    """Personalise a virtual card with a synthetic citizen under a local test PKI."""
    test_pki = open_pki(pki)
    try:
        result = make_card(out, test_pki, seed)
    except (PersonalisationError, CardImageError, ReaderError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"card image   {result['image']}")
    typer.echo(f"holder       {result['name']}")
    for key, label in (("serial", "card serial"), ("can", "CAN"), ("pin1", "PIN1"), ("pin2", "PIN2"),
                       ("user_code", "user code")):
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
    can: Annotated[str | None, typer.Option("--can", help="card access number (public zone)")] = None,
    zone: Annotated[ZoneChoice, typer.Option("--zone")] = ZoneChoice.public,
    interface: Annotated[InterfaceChoice, typer.Option("--interface")] = InterfaceChoice.contactless,
    pki: PkiOption = None,
    csca: Annotated[Path | None, typer.Option("--csca", help="CSCA certificate (PEM) to trust")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Read a zone, verifying it (Passive Authentication; Active Authentication for the public zone)."""
    anchors = _trust_anchors(pki, csca)
    transport = _transport(image, reader, interface)
    result: dict[str, Any]
    try:
        with NewEidReader(transport, anchors) as card_reader:
            if zone is ZoneChoice.household:
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
