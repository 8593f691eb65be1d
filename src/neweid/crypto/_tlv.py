"""The few BER-TLV helpers the crypto layer needs (SM data objects, public key data objects).

Kept private and minimal so that :mod:`neweid.crypto` does not depend on a general TLV codec.
"""

from __future__ import annotations

from dataclasses import dataclass

from neweid.crypto.errors import CryptoError


@dataclass(frozen=True)
class RawTlv:
    """One parsed data object with a one-byte tag; ``start`` is its offset in the parsed buffer."""

    tag: int
    value: bytes
    start: int


def encode_length(length: int) -> bytes:
    """BER definite length: short form below 128, else 81 / 82 / 83 followed by the length."""
    if length < 0 or length >= 1 << 24:
        raise CryptoError("data object too long")
    if length < 0x80:
        return bytes([length])
    size = (length.bit_length() + 7) // 8
    return bytes([0x80 | size]) + length.to_bytes(size, "big")


def encode_tlv(tag: int, value: bytes) -> bytes:
    """A data object with a one- or two-byte tag (e.g. ``0x87``, ``0x7F49``)."""
    tag_bytes = tag.to_bytes(2 if tag > 0xFF else 1, "big")
    return tag_bytes + encode_length(len(value)) + value


def parse_simple_tlvs(data: bytes) -> list[RawTlv]:
    """Split ``data`` into data objects with one-byte tags; :class:`CryptoError` if malformed."""
    out: list[RawTlv] = []
    pos = 0
    while pos < len(data):
        start = pos
        tag = data[pos]
        if tag & 0x1F == 0x1F:
            raise CryptoError(f"unexpected multi-byte tag at offset {pos}")
        pos += 1
        if pos >= len(data):
            raise CryptoError("truncated data object")
        first = data[pos]
        pos += 1
        if first < 0x80:
            length = first
        elif 0x81 <= first <= 0x83:
            size = first & 0x7F
            if pos + size > len(data):
                raise CryptoError("truncated length field")
            length = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        else:
            raise CryptoError(f"invalid length byte {first:02X}")
        if pos + length > len(data):
            raise CryptoError("data object longer than the buffer")
        out.append(RawTlv(tag, data[pos : pos + length], start))
        pos += length
    return out
