"""How APDUs reach a card: the :class:`Transport` protocol and the in-process transport that drives any
chip object in the same Python process (the virtual card in tests, demos and the back office).

The host never imports :mod:`neweid.card`: the chip is described here only by what it must do
(:class:`ChipLike`)."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from neweid.formats.filemap import Interface
from neweid.terminal.errors import TransportError

__all__ = ["ChipLike", "InProcessTransport", "Transport", "describe_apdu"]

log = logging.getLogger(__name__)


def describe_apdu(apdu: bytes) -> str:
    """Header and length only, for logs: the data field may hold PINs or personal data."""
    if len(apdu) < 4:
        return f"<{len(apdu)}-byte APDU>"
    return f"{apdu[:4].hex(' ').upper()} +{len(apdu) - 4} bytes"


@runtime_checkable
class Transport(Protocol):
    """A connection to one card. ``transmit`` sends a command APDU and returns the response APDU
    (data ‖ SW1SW2) or raises :class:`TransportError`."""

    @property
    def interface(self) -> Interface:
        """The interface the session runs on (contact or contactless)."""
        ...

    @property
    def atr(self) -> bytes:
        """The card's Answer-to-Reset (or the ATR the reader builds from the ATS)."""
        ...

    def transmit(self, apdu: bytes) -> bytes: ...

    def uid(self) -> bytes | None:
        """The contactless UID of this power-up, None on the contact interface."""
        ...

    def close(self) -> None: ...


class ChipLike(Protocol):
    """What the in-process transport needs from a chip object (e.g. ``neweid.card.VirtualCard``)."""

    def power_on(self, interface: Interface) -> bytes: ...

    def power_off(self) -> None: ...

    def transmit(self, apdu: bytes) -> bytes: ...

    @property
    def uid(self) -> bytes | None: ...


class InProcessTransport:
    """Drive a chip object directly. Powers it on at construction on the given interface and off at
    :meth:`close` (also as a context manager)."""

    def __init__(self, chip: ChipLike, interface: Interface = Interface.CONTACT) -> None:
        self._chip = chip
        self._interface = interface
        try:
            self._atr = chip.power_on(interface)
        except Exception as exc:  # a foreign object: report it in our terms
            raise TransportError(f"power-on failed: {exc}") from exc
        self._open = True

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
            response = bytes(self._chip.transmit(bytes(apdu)))
        except Exception as exc:
            raise TransportError(f"the chip failed to answer: {exc}") from exc
        if len(response) < 2:
            raise TransportError(f"the chip answered {len(response)} bytes: no status word")
        log.debug("<- %s +%d bytes", response[-2:].hex().upper(), len(response) - 2)
        return response

    def uid(self) -> bytes | None:
        if self._interface is not Interface.CONTACTLESS:
            return None
        return self._chip.uid

    def close(self) -> None:
        if self._open:
            self._open = False
            self._chip.power_off()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
