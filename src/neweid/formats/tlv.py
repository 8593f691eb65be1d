"""BER-TLV data objects as smart cards use them (ISO/IEC 7816-4 §6.3, a subset of ITU-T X.690).

Tags are handled as integers holding the tag bytes big-endian (``0x7F49`` is the two bytes ``7F 49``).
A tag field has 1 to 3 bytes; the first byte is neither ``00`` nor ``FF`` (those are padding in
ISO/IEC 7816-4); a first byte with the low five bits all set announces more bytes, each further byte
except the last has bit 8 set, and the second byte is neither ``80`` nor in ``00``..``1E`` (tag numbers
below 31 use the one-byte form).

Lengths are definite: the short form ``00``..``7F`` and the long forms ``81``..``84`` followed by 1 to 4
length bytes. The encoder always writes the shortest form; the parser also accepts a longer form than
needed (BER allows it, and some cards write ``81 xx`` for short values) unless it is called with
``strict_lengths=True``, which accepts only the shortest form (as DER does). The indefinite form ``80`` is
rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from neweid.formats.errors import FormatError

MAX_TAG_BYTES = 3
MAX_LENGTH_BYTES = 4
MAX_LENGTH = (1 << (8 * MAX_LENGTH_BYTES)) - 1
PADDING_BYTES = frozenset({0x00, 0xFF})
_CONSTRUCTED_BIT = 0x20
_TAG_NUMBER_MASK = 0x1F


class TlvError(FormatError):
    """A malformed BER-TLV encoding, or a mandatory data object that is missing."""


def tag_bytes(tag: int) -> bytes:
    """The tag field for ``tag``; raises :class:`TlvError` if ``tag`` is not a valid tag."""
    if isinstance(tag, bool) or not isinstance(tag, int) or tag <= 0:
        raise TlvError(f"bad tag {tag!r}: must be a positive integer")
    size = (tag.bit_length() + 7) // 8
    if size > MAX_TAG_BYTES:
        raise TlvError(f"bad tag {tag:X}: longer than {MAX_TAG_BYTES} bytes")
    raw = tag.to_bytes(size, "big")
    problem = _tag_problem(raw)
    if problem is not None:
        raise TlvError(f"bad tag {tag:X}: {problem}")
    return raw


def _tag_problem(raw: bytes) -> str | None:
    """Why the complete tag field ``raw`` is invalid, or None."""
    first = raw[0]
    if first in PADDING_BYTES:
        return f"first byte {first:02X} is reserved for padding"
    multi = first & _TAG_NUMBER_MASK == _TAG_NUMBER_MASK
    if not multi:
        return None if len(raw) == 1 else "first byte does not announce a multi-byte tag"
    if len(raw) == 1:
        return "first byte announces further tag bytes"
    if raw[1] <= 0x1E or raw[1] == 0x80:
        return f"second byte {raw[1]:02X} is not allowed (ISO/IEC 7816-4)"
    if any(b & 0x80 == 0 for b in raw[1:-1]):
        return "a tag byte before the last has bit 8 clear"
    if raw[-1] & 0x80:
        return "the last tag byte has bit 8 set"
    return None


def is_constructed(tag: int) -> bool:
    """Whether ``tag`` (a valid tag) denotes a constructed data object (bit 6 of its first byte)."""
    return bool(tag_bytes(tag)[0] & _CONSTRUCTED_BIT)


def encode_length(n: int) -> bytes:
    """The shortest definite length field for ``n`` value bytes."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise TlvError(f"bad length {n!r}: must be a non-negative integer")
    if n > MAX_LENGTH:
        raise TlvError(f"length {n} does not fit in {MAX_LENGTH_BYTES} length bytes")
    if n < 0x80:
        return bytes([n])
    size = (n.bit_length() + 7) // 8
    return bytes([0x80 | size]) + n.to_bytes(size, "big")


def encode_tlv(tag: int, value: bytes) -> bytes:
    """Tag, length and value as one BER-TLV data object."""
    value = _as_bytes(value, "value")
    return tag_bytes(tag) + encode_length(len(value)) + value


def encode_constructed(tag: int, children: Iterable[Tlv | bytes]) -> bytes:
    """A constructed data object whose value is the concatenation of ``children``.

    A child is a :class:`Tlv` or an already encoded data object (checked to be well formed)."""
    if not is_constructed(tag):
        raise TlvError(f"tag {tag:X} is primitive, not constructed")
    parts: list[bytes] = []
    for child in children:
        if isinstance(child, Tlv):
            parts.append(child.encode())
        else:
            raw = _as_bytes(child, "child")
            parse_tlvs(raw)
            parts.append(raw)
    return encode_tlv(tag, b"".join(parts))


@dataclass(frozen=True)
class Tlv:
    """One BER-TLV data object."""

    tag: int
    value: bytes

    def __post_init__(self) -> None:
        tag_bytes(self.tag)
        object.__setattr__(self, "value", _as_bytes(self.value, "value"))

    @property
    def constructed(self) -> bool:
        """Whether the tag marks the value as a sequence of data objects."""
        return bool(tag_bytes(self.tag)[0] & _CONSTRUCTED_BIT)

    def children(self, *, allow_padding: bool = False) -> list[Tlv]:
        """The data objects inside a constructed data object."""
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive: it has no children")
        return parse_tlvs(self.value, allow_padding=allow_padding)

    def encode(self) -> bytes:
        return encode_tlv(self.tag, self.value)


def parse_tlv(data: bytes, offset: int = 0, *, strict_lengths: bool = False) -> tuple[Tlv, int]:
    """Parse the data object that starts at ``offset``; return it and the offset just after it.

    With ``strict_lengths``, a length field longer than needed (e.g. ``81 05``) is a :class:`TlvError`."""
    buf = _as_bytes(data, "data")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= len(buf):
        raise TlvError(f"offset {offset!r} outside the {len(buf)}-byte buffer")
    tag, pos = _parse_tag(buf, offset)
    length, pos = _parse_length(buf, pos, tag, strict=strict_lengths)
    end = pos + length
    if end > len(buf):
        raise TlvError(f"truncated value of tag {tag:X} at offset {offset}: "
                       f"{length} bytes announced, {len(buf) - pos} present")
    return Tlv(tag, buf[pos:end]), end


def parse_tlvs(data: bytes, *, allow_padding: bool = False, strict_lengths: bool = False) -> list[Tlv]:
    """Parse a whole buffer as a sequence of data objects; anything left over is an error.

    With ``allow_padding``, ``00`` and ``FF`` bytes before, between and after the data objects are
    skipped (ISO/IEC 7816-4 §6.3). With ``strict_lengths``, every length field must have the shortest
    form (see :func:`parse_tlv`)."""
    buf = _as_bytes(data, "data")
    items: list[Tlv] = []
    pos = 0
    while pos < len(buf):
        if allow_padding and buf[pos] in PADDING_BYTES:
            pos += 1
            continue
        item, pos = parse_tlv(buf, pos, strict_lengths=strict_lengths)
        items.append(item)
    return items


def find_tlv(items: Iterable[Tlv], tag: int) -> Tlv | None:
    """The first data object with ``tag``, or None."""
    for item in items:
        if item.tag == tag:
            return item
    return None


def require_tlv(items: Iterable[Tlv], tag: int) -> Tlv:
    """The first data object with ``tag``; raises :class:`TlvError` if there is none."""
    item = find_tlv(items, tag)
    if item is None:
        raise TlvError(f"missing mandatory data object with tag {tag:X}")
    return item


def _parse_tag(buf: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(buf):
        raise TlvError(f"truncated tag at offset {offset}: no bytes left")
    first = buf[offset]
    end = offset + 1
    if first & _TAG_NUMBER_MASK == _TAG_NUMBER_MASK and first not in PADDING_BYTES:
        while True:
            if end - offset >= MAX_TAG_BYTES:
                raise TlvError(f"bad tag at offset {offset}: longer than {MAX_TAG_BYTES} bytes")
            if end >= len(buf):
                raise TlvError(f"truncated tag at offset {offset}: multi-byte tag not finished")
            more = buf[end] & 0x80
            end += 1
            if not more:
                break
    raw = buf[offset:end]
    problem = _tag_problem(raw)
    if problem is not None:
        raise TlvError(f"bad tag {raw.hex().upper()} at offset {offset}: {problem}")
    return int.from_bytes(raw, "big"), end


def _parse_length(buf: bytes, pos: int, tag: int, *, strict: bool) -> tuple[int, int]:
    if pos >= len(buf):
        raise TlvError(f"truncated length of tag {tag:X}: no length byte")
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    if first == 0x80:
        raise TlvError(f"indefinite length of tag {tag:X} is not allowed")
    size = first & 0x7F
    if size > MAX_LENGTH_BYTES:
        raise TlvError(f"bad length of tag {tag:X}: {size} length bytes (at most {MAX_LENGTH_BYTES})")
    if pos + 1 + size > len(buf):
        raise TlvError(f"truncated length of tag {tag:X}: {size} length bytes announced, "
                       f"{len(buf) - pos - 1} present")
    end = pos + 1 + size
    length = int.from_bytes(buf[pos + 1:end], "big")
    if strict and encode_length(length) != buf[pos:end]:
        raise TlvError(f"non-minimal length encoding of tag {tag:X}: {buf[pos:end].hex().upper()} "
                       f"for {length} bytes")
    return length, end


def _as_bytes(data: object, what: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise TlvError(f"{what} must be bytes, not {type(data).__name__}")
