"""`neweid demo`: a narrated end-to-end run of what the system does today."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from neweid.card import VirtualCard
from neweid.cli.card import encrypted_json, make_card, verify_signature
from neweid.cli.common import open_pki, utc_now
from neweid.formats.chat import NeidRight
from neweid.formats.dates import format_minguo, format_western
from neweid.formats.filemap import Interface, Zone
from neweid.formats.iso7816 import PinRef
from neweid.pki.eac import EacPki
from neweid.terminal.certzone import CertificateKey
from neweid.terminal.errors import (
    AccessDenied,
    InterfaceNotAllowed,
    PinBlocked,
    PinIncorrect,
    ReaderError,
    WrongAccessCode,
)
from neweid.terminal.reader import NewEidReader
from neweid.terminal.transport import InProcessTransport

T = TypeVar("T")


class DemoStepError(RuntimeError):
    """A step of the demo did not behave as the system promises."""


class Narrator:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.step = 0

    @contextmanager
    def section(self, title: str) -> Iterator[None]:
        self.step += 1
        self.console.rule(f"[bold]{self.step}. {title}")
        started = time.perf_counter()
        yield
        self.console.print(f"[dim]   ({(time.perf_counter() - started) * 1000:.0f} ms)[/dim]")

    def ok(self, text: str) -> None:
        self.console.print(f"  [green]✔[/green] {text}")

    def refused(self, text: str) -> None:
        self.console.print(f"  [yellow]✘ refused as expected:[/yellow] {text}")


def expect_error(kind: type[ReaderError], action: Callable[[], object]) -> ReaderError:
    try:
        action()
    except kind as exc:
        return exc
    raise DemoStepError(f"expected {kind.__name__}, but the card accepted the command")


def run_demo(workdir: Path, console: Console) -> None:
    n = Narrator(console)
    with n.section("MOI's test PKI: CSCA (ECDSA P-521) and a Document Signer"):
        pki = open_pki(workdir / "pki")
        anchors = [pki.csca_certificate]
        n.ok(f"CSCA: {pki.csca_certificate.subject.rfc4514_string()}")
        n.ok(f"Document Signer: {pki.document_signer.certificate.subject.rfc4514_string()}")

    with n.section("MOI's EAC PKI: CVCA, a Document Verifier, two agency terminals"):
        eac = EacPki.open_or_create(workdir / "pki", now=utc_now())
        eac.issue_dv("MOI", NeidRight.READ_SPOUSE | NeidRight.READ_FATHER | NeidRight.READ_MOTHER
                     | NeidRight.READ_BIRTHPLACE | NeidRight.READ_SEX)
        family = eac.issue_terminal("MOI", NeidRight.READ_SPOUSE | NeidRight.READ_FATHER, name="FAMILY")
        other = eac.issue_terminal("MOI", NeidRight.READ_BIRTHPLACE, name="OTHER")
        n.ok(f"CVCA {eac.cvca_certificate.chr}; terminal {family.chr} may read spouse + father; "
             f"terminal {other.chr} may read the birthplace only")

    image = workdir / "citizen.card"
    with n.section("Production: personalise a chip by APDUs for a synthetic citizen"):
        made = make_card(image, pki, seed=2026)
        table = Table(show_header=False)
        for key in ("name", "serial", "can", "pin1", "pin2", "user_code"):
            table.add_row(key, str(made[key]))
        console.print(table)
        n.ok("the chip generated its Active Authentication and Chip Authentication keys and the 4 "
             "citizen-certificate key pairs; the CVCA trust point was installed; the zones were signed "
             "and the chip locked")

    card = VirtualCard.load(image)

    def reader(interface: Interface) -> NewEidReader:
        return NewEidReader(InProcessTransport(card, interface), anchors)

    with n.section("Household zone over the contactless interface: no access code"):
        with reader(Interface.CONTACTLESS) as r:
            household = r.read_household()
            uid1 = r.uid()
        region = household.region
        n.ok(f"{region.county_name}{region.township_name}{region.village_name}{region.neighbourhood}鄰 "
             f"(village code {region.village_code}); Passive Authentication ok")
        with reader(Interface.CONTACTLESS) as r:
            uid2 = r.uid()
        if uid1 is None or uid2 is None or uid1 == uid2:
            raise DemoStepError("the chip did not answer with a fresh random UID")
        n.ok(f"fresh random UID on every power-up: {uid1.hex().upper()} then {uid2.hex().upper()}")

    with n.section("Public zone: PACE with the CAN, secure messaging, PA and AA"):
        with reader(Interface.CONTACTLESS) as r:
            r.open_with_can(made["can"])
            public = r.read_public()
            r.active_authentication()
        n.ok(f"{public.name.chinese_name} ({public.name.romanised_name}), {public.id_number.id_number}")
        born = public.birth_date.date
        n.ok(f"born {format_minguo(born)} ({format_western(born)}); card {public.card_serial.serial}; "
             f"photo {len(public.photo.jpeg):,} bytes JPEG")
        n.ok("Passive Authentication: every data group hash matches the Document Signer's security object")
        n.ok("Active Authentication: the chip signed a fresh challenge with its non-exportable P-521 key")

    with n.section("A wrong CAN is refused"):
        wrong = f"{(int(made['can']) + 1) % 1_000_000:06d}"
        with reader(Interface.CONTACTLESS) as r:
            err = expect_error(WrongAccessCode, lambda: r.open_with_can(wrong))
        n.refused(str(err))

    with n.section("The encrypted zone is not reachable contactless, nor without an agency's TA"):
        with reader(Interface.CONTACTLESS) as r:
            r.open_with_can(made["can"])
            err = expect_error(InterfaceNotAllowed, lambda: r.read_zone(Zone.ENCRYPTED))
        n.refused(f"contactless: {err}")
        with reader(Interface.CONTACT) as r:
            r.open_with_can(made["can"])
            r.verify_pin(PinRef.PIN1, made["pin1"])
            err = expect_error(AccessDenied, lambda: r.read_zone(Zone.ENCRYPTED))
        n.refused(f"contact + PIN1 but no Terminal Authentication: {err}")

    with n.section("EAC: an authorised agency reads exactly the fields its certificate grants"):
        with reader(Interface.CONTACT) as r:
            r.open_with_can(made["can"])
            result = r.authenticate_terminal(family)
            n.ok(f"Terminal Authentication of {result.terminal_chr}; Chip Authentication against "
                 "EF.CardSecurity: the chip is genuine, secure messaging restarted with the CA keys")
            fields = r.read_encrypted(made["pin1"])
        if set(fields.fields_read) != {"spouse", "father"}:
            raise DemoStepError(f"the agency read {fields.fields_read}, not exactly spouse and father")
        n.ok(f"read {', '.join(fields.fields_read)}: {encrypted_json(fields)}")
        with reader(Interface.CONTACT) as r:
            r.open_with_can(made["can"])
            r.authenticate_terminal(other)
            r.verify_pin(PinRef.PIN1, made["pin1"])
            err = expect_error(AccessDenied, lambda: r.read_zone_data(Zone.ENCRYPTED, numbers=(1,)))
        n.refused(f"{other.chr} asks for the spouse's name it was not granted: {err}")
        with reader(Interface.CONTACTLESS) as r:
            r.open_with_can(made["can"])
            err = expect_error(InterfaceNotAllowed, lambda: r.authenticate_terminal(family))
        n.refused(f"Terminal Authentication over the contactless interface: {err}")

    with n.section("Citizen certificate: sign a document with an on-card key (PIN2)"):
        document = "我同意本文件之內容 — I agree to this document.".encode()
        with reader(Interface.CONTACT) as r:
            r.open_with_can(made["can"])
            zone = r.certificate_zone()
            err = expect_error(AccessDenied, lambda: zone.sign(document, CertificateKey.EC_SIGN))
            n.refused(f"signing without PIN2: {err}")
            zone.verify_pin2(made["pin2"])
            signature = zone.sign(document, CertificateKey.EC_SIGN)
            certificate = zone.certificate_for(CertificateKey.EC_SIGN)
        verify_signature(certificate, CertificateKey.EC_SIGN, document, signature)
        n.ok(f"ECDSA P-521 signature ({len(signature)} bytes DER) made on the chip verifies with the "
             f"certificate of {certificate.subject.rfc4514_string()}")

    with n.section("PINs: block PIN1 with 3 wrong tries, unblock with the user code"):
        with reader(Interface.CONTACT) as r:
            r.open_with_can(made["can"])
            bad = "000000" if made["pin1"] != "000000" else "111111"
            for _ in range(2):
                err = expect_error(PinIncorrect, lambda: r.verify_pin(PinRef.PIN1, bad))
                n.refused(str(err))
            err = expect_error(PinBlocked, lambda: r.verify_pin(PinRef.PIN1, bad))
            n.refused(str(err))
            new_code = "NEWCODE" + made["user_code"][:3]
            r.change_user_code(made["user_code"], new_code)
            n.ok("the default user code from the pickup confirmation was changed first")
            r.unblock_pin(PinRef.PIN1, new_code, "246810")
            n.ok("PIN1 unblocked and set to a new value with the user code")
        card.power_off()
        card = VirtualCard.load(image)
        with reader(Interface.CONTACT) as r:
            r.open_with_can(made["can"])
            r.verify_pin(PinRef.PIN1, "246810")
        n.ok("after a power cycle and reloading the image, the new PIN1 verifies (state persisted)")
    console.rule("[bold green]demo complete")


def demo(
    workdir: Annotated[Path | None, typer.Option("--workdir", help="keep the PKI and card here")] = None,
) -> None:
    """Narrated end-to-end run: PKIs, personalisation, household/public zones, EAC and the encrypted
    zone, an on-card signature, refusals, PINs."""
    console = Console()
    try:
        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)
            run_demo(workdir, console)
        else:
            with tempfile.TemporaryDirectory(prefix="neweid-demo-") as tmp:
                run_demo(Path(tmp), console)
    except (DemoStepError, ReaderError) as exc:
        console.print(f"[red]demo failed: {exc}")
        raise typer.Exit(1) from exc
