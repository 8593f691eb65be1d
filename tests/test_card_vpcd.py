"""The vpcd bridge against a fake vpcd server socket: framing, control messages, APDUs, reconnection
and a clean stop."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from neweid.card import Interface, VirtualCard
from neweid.card.atr import ATR
from neweid.card.vpcd import serve_vpcd
from tests.test_card_support import HOUSEHOLD, SAMPLE_FILES, personalised_card


class FakeVpcd:
    """A listening socket speaking vpcd's framing, as pcscd's vpcd driver does."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(10)
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.server.accept()
        self.conn.settimeout(10)

    def send(self, payload: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(len(payload).to_bytes(2, "big") + payload)

    def recv(self) -> bytes:
        assert self.conn is not None
        size = int.from_bytes(self._exact(2), "big")
        return self._exact(size)

    def _exact(self, n: int) -> bytes:
        assert self.conn is not None
        buf = b""
        while len(buf) < n:
            chunk = self.conn.recv(n - len(buf))
            assert chunk, "bridge closed the connection"
            buf += chunk
        return buf

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def close(self) -> None:
        self.drop()
        self.server.close()


def start(card: VirtualCard, port: int, interface: Interface) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=serve_vpcd, args=(card, "127.0.0.1", port, interface),
                              kwargs={"stop": stop, "max_backoff": 0.2}, daemon=True)
    thread.start()
    return thread, stop


@pytest.fixture
def vpcd() -> Iterator[FakeVpcd]:
    fake = FakeVpcd()
    yield fake
    fake.close()


def test_control_messages_and_apdus(vpcd: FakeVpcd) -> None:
    card, _ = personalised_card()
    thread, stop = start(card, vpcd.port, Interface.CONTACTLESS)
    vpcd.accept()
    vpcd.send(b"\x04")
    assert vpcd.recv() == ATR
    vpcd.send(b"\x01")  # power on: no reply
    vpcd.send(bytes.fromhex("FFCA000000"))
    uid_response = vpcd.recv()
    assert uid_response[-2:] == b"\x90\x00" and uid_response[0] == 0x08
    assert card.interface is Interface.CONTACTLESS
    vpcd.send(bytes.fromhex("00A4040C07") + HOUSEHOLD.aid)
    assert vpcd.recv() == b"\x90\x00"
    vpcd.send(bytes.fromhex("00B0810000"))
    assert vpcd.recv() == SAMPLE_FILES[(HOUSEHOLD.fid, 0x0101)] + b"\x90\x00"
    vpcd.send(b"\x02")  # reset: no reply, session restarts (MF selected again)
    vpcd.send(bytes.fromhex("00B0810000"))
    assert vpcd.recv() == b"\x6a\x82"
    vpcd.send(b"\x00")  # power off
    vpcd.send(bytes.fromhex("00A4000C023F00"))  # tolerated: the bridge powers the card on
    assert vpcd.recv() == b"\x90\x00"
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert not card.powered


def test_reconnects_when_vpcd_starts_late_and_after_a_drop() -> None:
    # reserve a port, close it: the bridge retries until something listens there
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    card, _ = personalised_card()
    thread, stop = start(card, port, Interface.CONTACT)
    try:
        server = socket.create_server(("127.0.0.1", port))
    except OSError:
        stop.set()
        pytest.skip("port taken in the meantime")
    fake = FakeVpcd.__new__(FakeVpcd)
    fake.server, fake.port, fake.conn = server, port, None
    server.settimeout(10)
    try:
        fake.accept()
        fake.send(b"\x04")
        assert fake.recv() == ATR
        fake.drop()  # vpcd goes away: the bridge reconnects
        fake.accept()
        fake.send(b"\x01")
        fake.send(bytes.fromhex("00A4000C023F00"))
        assert fake.recv() == b"\x90\x00"
    finally:
        stop.set()
        thread.join(timeout=5)
        fake.close()
    assert not thread.is_alive()


def test_stop_while_waiting_for_vpcd() -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    card, _ = personalised_card()
    thread, stop = start(card, port, Interface.CONTACT)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
