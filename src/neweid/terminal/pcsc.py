"""PC/SC transport over pyscard (optional dependency: the ``pcsc`` extra).

Works with any PC/SC reader, and with the virtual card served through vsmartcard's vpcd
(``neweid.card.vpcd``). T=1 is preferred; T=0 is accepted (the session then handles 61xx/6Cxx).
PC/SC does not say whether a reader is contact or contactless: pass ``interface`` or let the reader's
name decide (names with "contactless", "PICC" or " CL" are taken as contactless)."""

from __future__ import annotations

import logging
from types import ModuleType, TracebackType
from typing import Any, Self

from neweid.formats.filemap import Interface
from neweid.terminal.errors import TransportError
from neweid.terminal.transport import describe_apdu

__all__ = ["PcscTransport", "list_readers"]

log = logging.getLogger(__name__)

_MISSING = ("pyscard is not installed: install the pcsc extra (pip install 'neweid[pcsc]') and "
            "scripts/install-system-parts.sh (pcscd and the pcsc-lite headers)")
GET_UID_APDU = bytes.fromhex("FFCA000000")
_CONTACTLESS_HINTS = ("contactless", "picc", " cl ", " cl", "nfc")


def _pyscard() -> tuple[ModuleType, ModuleType]:
    """The pyscard modules we use (``smartcard.System``, ``smartcard.CardConnection``)."""
    try:
        import smartcard.CardConnection
        import smartcard.System
    except ImportError as exc:
        raise TransportError(_MISSING) from exc
    return smartcard.System, smartcard.CardConnection


def list_readers() -> list[str]:
    """Names of the PC/SC readers pcscd knows (empty when none)."""
    system, _ = _pyscard()
    try:
        return [str(reader) for reader in system.readers()]
    except Exception as exc:  # pyscard raises its own hierarchy, or PCSC errors when pcscd is down
        raise TransportError(f"cannot list PC/SC readers (is pcscd running?): {exc}") from exc


def guess_interface(reader_name: str) -> Interface:
    name = f" {reader_name.lower()} "
    if any(hint in name for hint in _CONTACTLESS_HINTS):
        return Interface.CONTACTLESS
    return Interface.CONTACT


class PcscTransport:
    """A connection to the card in one PC/SC reader.

    ``reader``: the reader's name or a unique part of it; None takes the first reader with a card."""

    def __init__(self, reader: str | None = None, *, interface: Interface | None = None) -> None:
        system, card_connection = _pyscard()
        try:
            available = list(system.readers())
        except Exception as exc:
            raise TransportError(f"cannot list PC/SC readers (is pcscd running?): {exc}") from exc
        if not available:
            raise TransportError("no PC/SC reader found")
        candidates = available if reader is None else [r for r in available if reader in str(r)]
        if not candidates:
            names = ", ".join(str(r) for r in available)
            raise TransportError(f"no PC/SC reader named {reader!r} (readers: {names})")
        errors: list[str] = []
        for candidate in candidates:
            connection = self._connect(candidate, card_connection, errors)
            if connection is not None:
                self._connection: Any = connection
                self.reader_name = str(candidate)
                break
        else:
            raise TransportError("cannot connect to a card: " + "; ".join(errors))
        self._interface = interface or guess_interface(self.reader_name)
        self._atr = bytes(self._connection.getATR())
        self._open = True

    @staticmethod
    def _connect(reader: Any, card_connection: ModuleType, errors: list[str]) -> Any:
        connection = reader.createConnection()
        protocols = card_connection.CardConnection
        for protocol in (protocols.T1_protocol, protocols.T0_protocol):
            try:
                connection.connect(protocol=protocol)
            except Exception as exc:
                errors.append(f"{reader}: {exc}")
                continue
            return connection
        return None

    @property
    def interface(self) -> Interface:
        return self._interface

    @property
    def atr(self) -> bytes:
        return self._atr

    def transmit(self, apdu: bytes) -> bytes:
        if not self._open:
            raise TransportError("the transport is closed")
        log.debug("-> %s", describe_apdu(apdu))
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except Exception as exc:
            raise TransportError(f"PC/SC transmit failed (card removed?): {exc}") from exc
        log.debug("<- %02X%02X +%d bytes", sw1, sw2, len(data))
        return bytes(data) + bytes((sw1, sw2))

    def uid(self) -> bytes | None:
        """GET DATA UID (``FF CA 00 00 00``), answered by contactless readers; None on contact. Call it
        before PACE: on a virtual card served through vpcd it reaches the chip as a plain command."""
        if self._interface is not Interface.CONTACTLESS:
            return None
        response = self.transmit(GET_UID_APDU)
        if response[-2:] != b"\x90\x00":
            return None
        return response[:-2]

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                self._connection.disconnect()
            except Exception as exc:  # closing a dead connection is not an error for the caller
                log.debug("disconnect failed: %s", exc)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
