"""Transports: in-process (duck-typed chip) and PC/SC over a fake pyscard."""

from __future__ import annotations

import sys
import types

import pytest

from neweid.formats.filemap import Interface
from neweid.terminal.errors import TransportError
from neweid.terminal.pcsc import PcscTransport, guess_interface, list_readers
from neweid.terminal.transport import InProcessTransport, Transport, describe_apdu


class FakeChip:
    def __init__(self, answer: bytes = b"\x90\x00") -> None:
        self.answer = answer
        self.powered: Interface | None = None
        self.received: list[bytes] = []
        self.uid = b"\x08\x01\x02\x03"

    def power_on(self, interface: Interface) -> bytes:
        self.powered = interface
        return b"\x3b\x00"

    def power_off(self) -> None:
        self.powered = None

    def transmit(self, apdu: bytes) -> bytes:
        self.received.append(apdu)
        if self.answer == b"boom":
            raise RuntimeError("chip crashed")
        return self.answer


def test_in_process_transport_powers_the_chip() -> None:
    chip = FakeChip()
    with InProcessTransport(chip, Interface.CONTACTLESS) as transport:
        assert isinstance(transport, Transport)
        assert chip.powered is Interface.CONTACTLESS and transport.atr == b"\x3b\x00"
        assert transport.transmit(b"\x00\xa4\x00\x0c") == b"\x90\x00"
        assert chip.received == [b"\x00\xa4\x00\x0c"]
        assert transport.uid() == b"\x08\x01\x02\x03"
    assert chip.powered is None
    with pytest.raises(TransportError, match="closed"):
        transport.transmit(b"\x00\xa4\x00\x0c")


def test_in_process_transport_contact_has_no_uid_and_reports_failures() -> None:
    chip = FakeChip(b"\x90")
    transport = InProcessTransport(chip)
    assert transport.interface is Interface.CONTACT and transport.uid() is None
    with pytest.raises(TransportError, match="no status word"):
        transport.transmit(b"\x00\xb0\x00\x00\x00")
    chip.answer = b"boom"
    with pytest.raises(TransportError, match="chip crashed"):
        transport.transmit(b"\x00\xb0\x00\x00\x00")


def test_describe_apdu_never_shows_the_data() -> None:
    assert describe_apdu(bytes.fromhex("0020008106313233343536")) == "00 20 00 81 +7 bytes"
    assert describe_apdu(b"\x00") == "<1-byte APDU>"


# -- PC/SC over a fake pyscard ---------------------------------------------------------------------
class FakeConnection:
    def __init__(self, reader: FakeReader) -> None:
        self.reader = reader
        self.protocol: int | None = None
        self.sent: list[list[int]] = []
        self.disconnected = False

    def connect(self, protocol: int) -> None:
        if protocol not in self.reader.protocols:
            raise RuntimeError(f"protocol {protocol} refused")
        self.protocol = protocol

    def getATR(self) -> list[int]:
        return [0x3B, 0x80, 0x80, 0x01, 0x01]

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]:
        self.sent.append(apdu)
        if apdu[:2] == [0xFF, 0xCA]:
            return [8, 1, 2, 3], 0x90, 0x00
        if apdu[1] == 0xEE:
            raise RuntimeError("card removed")
        return [0xAB], 0x90, 0x00

    def disconnect(self) -> None:
        self.disconnected = True


class FakeReader:
    def __init__(self, name: str, protocols: tuple[int, ...] = (2, 1)) -> None:
        self.name = name
        self.protocols = protocols
        self.connections: list[FakeConnection] = []

    def __str__(self) -> str:
        return self.name

    def createConnection(self) -> FakeConnection:
        connection = FakeConnection(self)
        self.connections.append(connection)
        return connection


@pytest.fixture
def fake_pyscard(monkeypatch: pytest.MonkeyPatch) -> list[FakeReader]:
    readers: list[FakeReader] = []
    package = types.ModuleType("smartcard")
    system = types.ModuleType("smartcard.System")
    system.readers = lambda: list(readers)  # type: ignore[attr-defined]
    connection = types.ModuleType("smartcard.CardConnection")

    class CardConnection:
        T0_protocol = 1
        T1_protocol = 2

    connection.CardConnection = CardConnection  # type: ignore[attr-defined]
    package.System = system  # type: ignore[attr-defined]
    package.CardConnection = connection  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "smartcard", package)
    monkeypatch.setitem(sys.modules, "smartcard.System", system)
    monkeypatch.setitem(sys.modules, "smartcard.CardConnection", connection)
    return readers


def test_missing_pyscard_is_a_clear_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "smartcard", None)
    with pytest.raises(TransportError, match=r"pcsc extra.*install-system-parts\.sh"):
        list_readers()
    with pytest.raises(TransportError, match="pyscard is not installed"):
        PcscTransport()


def test_pcsc_lists_and_connects_with_t1_preferred(fake_pyscard: list[FakeReader]) -> None:
    fake_pyscard.extend([FakeReader("ACS ACR39U 00 00"), FakeReader("Virtual PCD 00 01")])
    assert list_readers() == ["ACS ACR39U 00 00", "Virtual PCD 00 01"]
    with PcscTransport("Virtual PCD", interface=Interface.CONTACTLESS) as transport:
        connection = fake_pyscard[1].connections[0]
        assert connection.protocol == 2  # T=1
        assert transport.reader_name == "Virtual PCD 00 01"
        assert transport.atr == bytes.fromhex("3B80800101")
        assert transport.transmit(bytes.fromhex("00A4000C")) == bytes.fromhex("AB9000")
        assert transport.uid() == bytes.fromhex("08010203")
        assert connection.sent[-1] == [0xFF, 0xCA, 0x00, 0x00, 0x00]
        with pytest.raises(TransportError, match="card removed"):
            transport.transmit(bytes.fromhex("00EE0000"))
    assert connection.disconnected
    with pytest.raises(TransportError, match="closed"):
        transport.transmit(bytes.fromhex("00A4000C"))


def test_pcsc_falls_back_to_t0_and_contact_has_no_uid(fake_pyscard: list[FakeReader]) -> None:
    fake_pyscard.append(FakeReader("Old Reader 0", protocols=(1,)))
    transport = PcscTransport()
    assert fake_pyscard[0].connections[0].protocol == 1  # T=0
    assert transport.interface is Interface.CONTACT
    assert transport.uid() is None
    assert fake_pyscard[0].connections[0].sent == []  # GET DATA UID not sent on contact


def test_pcsc_errors(fake_pyscard: list[FakeReader]) -> None:
    with pytest.raises(TransportError, match="no PC/SC reader"):
        PcscTransport()
    fake_pyscard.append(FakeReader("Some Reader", protocols=()))
    with pytest.raises(TransportError, match="named 'Other'"):
        PcscTransport("Other")
    with pytest.raises(TransportError, match="cannot connect"):
        PcscTransport("Some")


def test_pcsc_readers_failure(monkeypatch: pytest.MonkeyPatch, fake_pyscard: list[FakeReader]) -> None:
    def broken() -> list[FakeReader]:
        raise RuntimeError("EstablishContext failed")

    monkeypatch.setattr(sys.modules["smartcard.System"], "readers", broken)
    with pytest.raises(TransportError, match="pcscd running"):
        list_readers()


@pytest.mark.parametrize(("name", "interface"), [
    ("ACS ACR1252 1S CL Reader [ACR1252 Dual Reader PICC] 00 00", Interface.CONTACTLESS),
    ("Identiv uTrust 3700 F Contactless Reader 0", Interface.CONTACTLESS),
    ("Alcor Micro AU9540 00 00", Interface.CONTACT),
    ("Virtual PCD 00 00", Interface.CONTACT),
])
def test_guess_interface(name: str, interface: Interface) -> None:
    assert guess_interface(name) is interface
