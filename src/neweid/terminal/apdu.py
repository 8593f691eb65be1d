"""Command APDUs as bytes and response APDUs as values (ISO/IEC 7816-3 §12.1, 7816-4 §5.1).

``build_apdu`` chooses the short or the extended encoding: extended when the data field is longer than
255 bytes or more than 256 response bytes are expected (or when asked to). ``le`` is the number of
expected response bytes *Ne* (1..65536): 256 is sent as ``00`` in a short APDU, 65536 as ``0000`` in an
extended one.
"""

from __future__ import annotations

from dataclasses import dataclass

from neweid.formats.iso7816 import StatusWord, describe_sw
from neweid.terminal.errors import CardStatusError, InvalidInputError, TransportError

__all__ = ["CardStatusError", "Response", "build_apdu", "describe_sw"]

MAX_SHORT_DATA = 255
MAX_SHORT_NE = 256
MAX_EXTENDED_DATA = 65535
MAX_EXTENDED_NE = 65536


def _check_byte(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise InvalidInputError(f"{name} must be a byte (0..255), got {value}")


def build_apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None, *,
               extended: bool | None = None) -> bytes:
    """Encode a command APDU (cases 1, 2, 3, 4, short or extended).

    ``extended=None`` picks the short form whenever it can carry the command; ``True`` forces the
    extended form (for a case-1 command there is nothing to extend). Raises :class:`InvalidInputError` for
    out-of-range fields."""
    for name, value in (("CLA", cla), ("INS", ins), ("P1", p1), ("P2", p2)):
        _check_byte(name, value)
    if len(data) > MAX_EXTENDED_DATA:
        raise InvalidInputError(f"data field too long for an APDU ({len(data)} > {MAX_EXTENDED_DATA} bytes)")
    if le is not None and not 1 <= le <= MAX_EXTENDED_NE:
        raise InvalidInputError(f"Le (expected length) must be 1..{MAX_EXTENDED_NE}, got {le}")
    needs_extended = len(data) > MAX_SHORT_DATA or (le is not None and le > MAX_SHORT_NE)
    if extended is False and needs_extended:
        raise InvalidInputError("the command does not fit a short APDU")
    use_extended = needs_extended or bool(extended)
    header = bytes((cla, ins, p1, p2))
    if not data and le is None:
        return header
    if not use_extended:
        body = bytes((len(data),)) + data if data else b""
        if le is not None:
            body += bytes((le % 256,))
        return header + body
    body = b"\x00"
    if data:
        body += len(data).to_bytes(2, "big") + data
    if le is not None:
        body += (le % 65536).to_bytes(2, "big")
    return header + body


@dataclass(frozen=True)
class Response:
    """A response APDU: the data field and the status word SW1SW2."""

    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        """Split the bytes a card answered into data and status word."""
        if len(raw) < 2:
            raise TransportError(f"response too short ({len(raw)} bytes): no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        """Success (9000) or the end-of-file warning 6282, which still carries good data."""
        return self.sw in (StatusWord.SUCCESS, StatusWord.WARNING_END_OF_FILE)

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    def check(self) -> Response:
        """Return self on success; raise :class:`CardStatusError` otherwise."""
        if self.sw != StatusWord.SUCCESS:
            raise CardStatusError(self.sw)
        return self

    def __repr__(self) -> str:
        # The data may be personal (names, PINs echo nothing, but zones do): show only their length.
        return f"Response(<{len(self.data)} bytes>, sw={self.sw:04X})"
