"""The bridge to vsmartcard's virtual PC/SC reader (vpcd), so that pcscd serves the virtual card to any
PC/SC application.

The card side (like vsmartcard's vicc) is a TCP *client* of vpcd (default 127.0.0.1:35963). Every
message, both ways, is a 2-byte big-endian length followed by the payload. A 1-byte payload from vpcd is
a control message: ``00`` power off, ``01`` power on, ``02`` reset, ``04`` get ATR (answered with the
ATR); the others are not answered. Any longer payload is a command APDU, answered with the response
APDU. If vpcd is not (yet) listening or the connection drops, the bridge reconnects with exponential
backoff until ``stop`` is set.
"""

from __future__ import annotations

import logging
import socket
import threading

from neweid.card.chip import VirtualCard
from neweid.formats.filemap import Interface

_log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963
POWER_OFF = 0x00
POWER_ON = 0x01
RESET = 0x02
GET_ATR = 0x04
POLL_SECONDS = 0.2  # how often a blocked receive looks at the stop event
MAX_MESSAGE = 0xFFFF


class _ClosedError(Exception):
    """The connection ended (peer closed it, or stop was set)."""


def _recv_exact(sock: socket.socket, size: int, stop: threading.Event) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        if stop.is_set():
            raise _ClosedError
        try:
            chunk = sock.recv(size - len(buf))
        except TimeoutError:
            continue
        if not chunk:
            raise _ClosedError
        buf += chunk
    return bytes(buf)


def _send(sock: socket.socket, payload: bytes) -> None:
    if len(payload) > MAX_MESSAGE:  # cannot be framed: answer "no precise diagnosis"
        _log.error("response of %d bytes too long for vpcd framing", len(payload))
        payload = b"\x6f\x00"
    sock.sendall(len(payload).to_bytes(2, "big") + payload)


def _handle(card: VirtualCard, interface: Interface, payload: bytes) -> bytes | None:
    """The reply to one vpcd message, or None when none is due."""
    if len(payload) == 1:
        code = payload[0]
        if code == POWER_OFF:
            card.power_off()
        elif code == POWER_ON:
            card.power_on(interface)
        elif code == RESET:
            card.reset()
        elif code == GET_ATR:
            return card.atr
        else:
            _log.warning("unknown vpcd control message %02X ignored", code)
        return None
    if not card.powered:  # pcscd powers the card first; be tolerant anyway
        card.power_on(interface)
    return card.transmit(payload)


def _serve_connection(card: VirtualCard, sock: socket.socket, interface: Interface,
                      stop: threading.Event) -> None:
    sock.settimeout(POLL_SECONDS)
    while not stop.is_set():
        size = int.from_bytes(_recv_exact(sock, 2, stop), "big")
        payload = _recv_exact(sock, size, stop)
        reply = _handle(card, interface, payload)
        if reply is not None:
            _send(sock, reply)


def serve_vpcd(card: VirtualCard, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
               interface: Interface = Interface.CONTACT, stop: threading.Event | None = None, *,
               max_backoff: float = 5.0) -> None:
    """Serve ``card`` to vpcd at ``host:port`` until ``stop`` is set (forever if None)."""
    stop = stop or threading.Event()
    backoff = 0.1
    while not stop.is_set():
        try:
            sock = socket.create_connection((host, port), timeout=max(POLL_SECONDS, 1.0))
        except OSError as exc:
            _log.debug("vpcd at %s:%d not reachable (%s); retrying in %.1f s", host, port, exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        _log.info("connected to vpcd at %s:%d (%s)", host, port, interface.value)
        backoff = 0.1
        try:
            with sock:
                _serve_connection(card, sock, interface, stop)
        except _ClosedError:
            _log.info("vpcd connection closed")
        except OSError as exc:
            _log.info("vpcd connection lost: %s", exc)
        finally:
            card.power_off()
        if not stop.is_set():
            stop.wait(backoff)
    _log.info("vpcd bridge stopped")
