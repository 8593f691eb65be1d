"""Command APDUs (ISO/IEC 7816-3 §12.1, ISO/IEC 7816-4 §5.1): parsing of the seven cases.

=====  ==========================================  ==============================
case   encoding                                    fields
=====  ==========================================  ==============================
1      CLA INS P1 P2                               no data, no Le
2S     ... Le                                      Le ``00`` = 256
3S     ... Lc data                                 Lc ``01``..``FF``
4S     ... Lc data Le                              Le ``00`` = 256
2E     ... 00 Le1 Le2                              Le ``0000`` = 65536
3E     ... 00 Lc1 Lc2 data                         Lc ``0001``..``FFFF``
4E     ... 00 Lc1 Lc2 data Le1 Le2                 Le ``0000`` = 65536
=====  ==========================================  ==============================
"""

from __future__ import annotations

from dataclasses import dataclass

from neweid.card.errors import CardError
from neweid.formats.iso7816 import StatusWord

__all__ = ["CLA_CHAINING", "CLA_SM", "CardError", "CommandApdu", "encode", "parse"]

CLA_SM = 0x0C  # secure messaging, header authenticated (ISO/IEC 7816-4 §5.4.1)
CLA_CHAINING = 0x10  # command chaining: more commands of the chain follow
SHORT_MAX = 256
EXTENDED_MAX = 65536


@dataclass(frozen=True)
class CommandApdu:
    """One command APDU. ``ne`` is the maximum number of response bytes expected (``None``: no Le)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None
    extended: bool = False

    @property
    def sm(self) -> bool:
        """Whether the CLA announces secure messaging (bits ``0C``; the pseudo-CLA ``FF`` is not)."""
        return self.cla != 0xFF and self.cla & CLA_SM == CLA_SM

    @property
    def chained(self) -> bool:
        """Whether the CLA announces that more commands of a chain follow."""
        return self.cla != 0xFF and bool(self.cla & CLA_CHAINING)

    @property
    def p1p2(self) -> int:
        return self.p1 << 8 | self.p2

    def with_body(self, cla: int, data: bytes, ne: int | None) -> CommandApdu:
        """The same header with another CLA, data field and Ne (after unwrapping SM or chaining)."""
        return CommandApdu(cla, self.ins, self.p1, self.p2, data, ne, self.extended)


def _wrong_length(why: str) -> CardError:
    return CardError(StatusWord.WRONG_LENGTH, f"malformed APDU: {why}")


def parse(raw: bytes) -> CommandApdu:
    """Parse the bytes of a command APDU; raises :class:`CardError` (``6700``) if they are malformed."""
    if len(raw) < 4:
        raise _wrong_length(f"{len(raw)} bytes, a header has 4")
    cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
    body = raw[4:]
    n = len(body)
    if n == 0:  # case 1
        return CommandApdu(cla, ins, p1, p2)
    if n == 1:  # case 2S
        return CommandApdu(cla, ins, p1, p2, b"", body[0] or SHORT_MAX)
    if body[0] != 0:  # case 3S / 4S
        lc = body[0]
        if n == 1 + lc:
            return CommandApdu(cla, ins, p1, p2, bytes(body[1:]))
        if n == 2 + lc:
            return CommandApdu(cla, ins, p1, p2, bytes(body[1:-1]), body[-1] or SHORT_MAX)
        raise _wrong_length(f"Lc {lc} does not match the {n - 1} bytes that follow")
    # extended length: first body byte 00
    if n == 3:  # case 2E
        return CommandApdu(cla, ins, p1, p2, b"", int.from_bytes(body[1:3], "big") or EXTENDED_MAX, True)
    if n < 3:
        raise _wrong_length("extended length field truncated")
    lc = int.from_bytes(body[1:3], "big")
    if lc == 0:
        raise _wrong_length("extended Lc 0000")
    if n == 3 + lc:  # case 3E
        return CommandApdu(cla, ins, p1, p2, bytes(body[3:]), None, True)
    if n == 5 + lc:  # case 4E
        ne = int.from_bytes(body[-2:], "big") or EXTENDED_MAX
        return CommandApdu(cla, ins, p1, p2, bytes(body[3:-2]), ne, True)
    raise _wrong_length(f"extended Lc {lc} does not match the {n - 3} bytes that follow")


def encode(apdu: CommandApdu) -> bytes:
    """The bytes of ``apdu`` (the inverse of :func:`parse`; short form unless ``extended``)."""
    limit = EXTENDED_MAX if apdu.extended else SHORT_MAX
    if len(apdu.data) >= limit or (apdu.ne is not None and not 1 <= apdu.ne <= limit):
        raise _wrong_length("field too long for the chosen form")
    return _encode_fields(bytes([apdu.cla, apdu.ins, apdu.p1, apdu.p2]), apdu.data, apdu.ne, apdu.extended)


def _encode_fields(header: bytes, data: bytes, ne: int | None, extended: bool) -> bytes:
    out = bytearray(header)
    if extended:
        if data:
            out += b"\x00" + len(data).to_bytes(2, "big") + data
        if ne is not None:
            le = (ne % EXTENDED_MAX).to_bytes(2, "big")
            out += le if data else b"\x00" + le
        return bytes(out)
    if data:
        out += bytes([len(data)]) + data
    if ne is not None:
        out.append(ne % SHORT_MAX)
    return bytes(out)
