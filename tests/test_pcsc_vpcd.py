"""The served card through pcscd + vsmartcard's vpcd, reached as any PC/SC application reaches a card.

Needs scripts/install-system-parts.sh and scripts/start-pcscd.sh (CI runs both)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from neweid.card import VirtualCard
from neweid.formats.filemap import Interface, Zone, zone_spec
from neweid.formats.tlv import parse_tlvs
from tests.conftest import PersonalisedImage, require_system_part

VPCD_HOST, VPCD_PORT = "127.0.0.1", 35963
READER = "Virtual PCD 00 00"


def _vpcd_listening() -> bool:
    try:
        with socket.create_connection((VPCD_HOST, VPCD_PORT), timeout=0.5):
            return True
    except OSError:
        return False


def _pyscard_ok() -> bool:
    try:
        import smartcard.System  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture()
def served(card_image: PersonalisedImage, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[None]:
    require_system_part(_pyscard_ok(), "pyscard (the pcsc extra)")
    require_system_part(_vpcd_listening(), "pcscd with vsmartcard's vpcd on 127.0.0.1:35963")
    from neweid.card.vpcd import serve_vpcd

    image = tmp_path / "served.card"
    shutil.copy(card_image.path, image)
    interface: Interface = getattr(request, "param", Interface.CONTACT)
    stop = threading.Event()
    card = VirtualCard.load(image)
    thread = threading.Thread(target=serve_vpcd, args=(card, VPCD_HOST, VPCD_PORT, interface),
                              kwargs={"stop": stop}, daemon=True)
    thread.start()
    _wait_for_card()
    yield
    stop.set()
    thread.join(timeout=10)
    _wait_for_card(present=False)


def _wait_for_card(present: bool = True, timeout: float = 10.0) -> None:
    from smartcard.System import readers

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reader = next(r for r in readers() if str(r) == READER)
        connection = reader.createConnection()
        try:
            connection.connect()
            connection.disconnect()
            if present:
                return
        except Exception:
            if not present:
                return
        time.sleep(0.2)
    if present:
        raise AssertionError(f"no card appeared in {READER}")


def test_pyscard_reads_the_household_zone(served: None, card_image: PersonalisedImage) -> None:
    from smartcard.System import readers

    reader = next(r for r in readers() if str(r) == READER)
    connection = reader.createConnection()
    connection.connect()
    try:
        atr = bytes(connection.getATR())
        assert atr[0] == 0x3B
        aid = list(zone_spec(Zone.HOUSEHOLD).aid)
        _, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x0C, len(aid), *aid])
        assert (sw1, sw2) == (0x90, 0x00)
        data, sw1, sw2 = connection.transmit([0x00, 0xB0, 0x81, 0x00, 0x00])
        assert (sw1, sw2) in ((0x90, 0x00), (0x62, 0x82))
        assert parse_tlvs(bytes(data))[0].tag == 0x61
        # the public zone stays closed without PACE
        aid = list(zone_spec(Zone.PUBLIC).aid)
        connection.transmit([0x00, 0xA4, 0x04, 0x0C, len(aid), *aid])
        _, sw1, sw2 = connection.transmit([0x00, 0xB0, 0x81, 0x00, 0x00])
        assert (sw1, sw2) == (0x69, 0x82)
    finally:
        connection.disconnect()


def test_reader_api_over_pcsc_runs_pace_pa_and_aa(served: None, card_image: PersonalisedImage,
                                                    test_pki: object) -> None:
    from neweid.pki.testpki import TestPki
    from neweid.terminal.pcsc import PcscTransport
    from neweid.terminal.reader import NewEidReader

    assert isinstance(test_pki, TestPki)
    with NewEidReader(PcscTransport(READER, interface=Interface.CONTACT), [test_pki.csca_certificate]) as r:
        r.open_with_can(card_image.card.secrets.can)
        public = r.read_public()
        r.active_authentication()
    assert public.card_serial.serial == card_image.card.content.public.card_serial.serial


@pytest.mark.parametrize("served", [Interface.CONTACTLESS], indirect=True)
def test_uid_is_random_over_pcsc(served: None) -> None:
    from smartcard.System import readers

    reader = next(r for r in readers() if str(r) == READER)
    uids = []
    for _ in range(2):
        connection = reader.createConnection()
        connection.connect()
        data, sw1, sw2 = connection.transmit([0xFF, 0xCA, 0x00, 0x00, 0x00])
        assert (sw1, sw2) == (0x90, 0x00)
        uids.append(bytes(data))
        connection.disconnect()
    # a random UID (ISO/IEC 14443-3: 4 bytes, first byte 08), never the chip's production serial
    assert all(len(u) == 4 and u[0] == 0x08 for u in uids)


def test_cli_serve_and_read_through_pcscd_and_opensc(card_image: PersonalisedImage, tmp_path: Path,
                                                       test_pki: object) -> None:
    """`neweid card serve` in its own process, read by `neweid card read --reader` and by opensc-tool."""
    import json
    import os
    import signal
    import subprocess
    import sys

    from neweid.pki.testpki import TestPki

    require_system_part(_pyscard_ok(), "pyscard (the pcsc extra)")
    require_system_part(_vpcd_listening(), "pcscd with vsmartcard's vpcd on 127.0.0.1:35963")
    require_system_part(shutil.which("opensc-tool") is not None, "opensc-tool (Debian package opensc)")
    assert isinstance(test_pki, TestPki)
    image = tmp_path / "served.card"
    shutil.copy(card_image.path, image)
    csca = tmp_path / "csca.pem"
    csca.write_bytes(test_pki.export_csca_pem())
    neweid = [sys.executable, "-m", "neweid.cli"]
    server = subprocess.Popen([*neweid, "card", "serve", str(image), "--vpcd", f"{VPCD_HOST}:{VPCD_PORT}",
                               "--interface", "contact"], stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        _wait_for_card()
        aid = zone_spec(Zone.HOUSEHOLD).aid
        select = f"00 A4 04 0C {len(aid):02X} " + " ".join(f"{b:02X}" for b in aid)
        tool = subprocess.run(["opensc-tool", "-r", READER, "-s", select, "-s", "00 B0 81 00 00"],
                              capture_output=True, text=True, timeout=60, check=False)
        assert "SW1=0x90, SW2=0x00" in tool.stdout, tool.stdout + tool.stderr
        read = subprocess.run([*neweid, "card", "read", "--reader", READER, "--interface", "contact",
                               "--csca", str(csca), "--can", card_image.card.secrets.can, "--json"],
                              capture_output=True, text=True, timeout=120, check=False)
        assert read.returncode == 0, read.stderr
        data = json.loads(read.stdout)
        assert data["active_authentication"] == "ok"
        assert data["data"]["card_serial"] == card_image.card.content.public.card_serial.serial
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    _wait_for_card(present=False)
