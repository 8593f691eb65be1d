"""A minimal, fast DER encoder for the few structures the CA writes by hand (CRL entries, attributes).

Only definite-length primitives and constructed values; every function returns complete TLV bytes.
Speed matters for CRLs with a million entries, so the helpers avoid objects and work on ``bytes``.
"""

from __future__ import annotations

import datetime

__all__ = [
    "bit_string",
    "enumerated",
    "explicit",
    "integer",
    "integer_from_unsigned",
    "octet_string",
    "oid",
    "printable_string",
    "sequence",
    "set_of",
    "time",
    "tlv",
]


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    size = (n.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + n.to_bytes(size, "big")


def tlv(tag: int, content: bytes) -> bytes:
    """One TLV with a single-byte tag."""
    return bytes((tag,)) + _length(len(content)) + content


def sequence(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    """A SET OF, elements sorted as DER requires."""
    return tlv(0x31, b"".join(sorted(parts)))


def explicit(number: int, content: bytes) -> bytes:
    """``[number] EXPLICIT`` (context-specific, constructed), number < 31."""
    return tlv(0xA0 | number, content)


def integer_from_unsigned(value: bytes) -> bytes:
    """INTEGER from the big-endian magnitude of a non-negative number (leading zeros are removed)."""
    body = value.lstrip(b"\x00") or b"\x00"
    if body[0] & 0x80:
        body = b"\x00" + body
    return tlv(0x02, body)


def _twos_complement(value: int) -> bytes:
    magnitude = value if value >= 0 else ~value  # ~v = -v - 1 has the bits a negative number needs
    return value.to_bytes(magnitude.bit_length() // 8 + 1, "big", signed=True)


def integer(value: int) -> bytes:
    return tlv(0x02, _twos_complement(value))


def enumerated(value: int) -> bytes:
    return tlv(0x0A, _twos_complement(value))


def octet_string(value: bytes) -> bytes:
    return tlv(0x04, value)


def bit_string(value: bytes) -> bytes:
    """BIT STRING without unused bits."""
    return tlv(0x03, b"\x00" + value)


def printable_string(value: str) -> bytes:
    return tlv(0x13, value.encode("ascii"))


def oid(dotted: str) -> bytes:
    arcs = [int(part) for part in dotted.split(".")]
    first = arcs[0] * 40 + arcs[1]
    body = bytearray()
    for arc in (first, *arcs[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(0x06, bytes(body))


def time(moment: datetime.datetime) -> bytes:
    """RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050 (seconds, ``Z``)."""
    utc = moment.astimezone(datetime.UTC)
    if 1950 <= utc.year < 2050:
        return tlv(0x17, utc.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return tlv(0x18, utc.strftime("%Y%m%d%H%M%SZ").encode("ascii"))
