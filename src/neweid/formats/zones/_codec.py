"""What every data group of :mod:`neweid.formats.zones` shares: the zone error, the outer DG tag, the
strict field layout inside it (BER-TLV through :mod:`neweid.formats.tlv`) and the field value codecs."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping

from neweid.formats.errors import FormatError
from neweid.formats.tlv import TlvError, encode_tlv, parse_tlvs

#: The largest value a DG file may hold: lengths have at most 3 length bytes.
MAX_VALUE_LENGTH = 0xFFFFFF


class ZoneFormatError(FormatError):
    """A data group's value or file bytes break the zone format; ``dg`` and ``field`` say where."""

    def __init__(self, dg: str, field: str | None, message: str) -> None:
        where = dg if field is None else f"{dg}.{field}"
        super().__init__(f"{where}: {message}")
        self.dg = dg
        self.field = field


def dg_tag(number: int) -> int:
    """The outer application tag of DG ``number`` (``0x60 + n``)."""
    if not 1 <= number <= 0x1E:
        raise ValueError(f"no data group {number}")
    return 0x60 + number


# --- the DG file layout: one outer TLV holding context-specific fields ------------------------------------


def _parse(data: bytes, dg: str) -> list[tuple[int, bytes]]:
    """Split ``data`` into (tag, value) pairs; single-byte tags, definite minimal lengths."""
    try:
        items = parse_tlvs(data, strict_lengths=True)
    except TlvError as exc:
        raise ZoneFormatError(dg, None, str(exc)) from exc
    for item in items:
        if item.tag > 0xFF:
            raise ZoneFormatError(dg, None, f"unexpected multi-byte tag {item.tag:X}")
        if len(item.value) > MAX_VALUE_LENGTH:
            raise ZoneFormatError(dg, None, f"oversized value of tag {item.tag:02X} (at most 3 length bytes)")
    return [(item.tag, item.value) for item in items]


def unwrap_dg(data: bytes, number: int, dg: str) -> bytes:
    """The value of the one outer TLV of DG ``number``'s file bytes."""
    items = _parse(bytes(data), dg)
    if len(items) != 1:
        raise ZoneFormatError(dg, None, "expected exactly one outer TLV")
    tag, value = items[0]
    if tag != dg_tag(number):
        raise ZoneFormatError(dg, None, f"outer tag {tag:02X}, expected {dg_tag(number):02X}")
    return value


def decode_fields(data: bytes, number: int, dg: str, names: tuple[str, ...]) -> dict[str, bytes]:
    """Decode DG file bytes into {field name: raw value}; field i has tag 0x80 + i."""
    out: dict[str, bytes] = {}
    last = -1
    for tag, value in _parse(unwrap_dg(data, number, dg), dg):
        index = tag - 0x80
        if not 0 <= index < len(names):
            raise ZoneFormatError(dg, None, f"unknown field tag {tag:02X}")
        name = names[index]
        if name in out:
            raise ZoneFormatError(dg, name, "field appears twice")
        if index < last:
            raise ZoneFormatError(dg, name, "field out of order")
        last = index
        out[name] = value
    return out


def encode_fields(number: int, names: tuple[str, ...], values: Mapping[str, bytes | None]) -> bytes:
    """DG ``number``'s file bytes; field i (tag 0x80 + i) is left out when its value is None."""
    body = b"".join(
        encode_tlv(0x80 + i, value)
        for i, name in enumerate(names)
        if (value := values.get(name)) is not None
    )
    return encode_tlv(dg_tag(number), body)


# --- zone aggregates: {DG number: file bytes} ----------------------------------------------------------


def group_bytes(zone: str, groups: Mapping[int, bytes], number: int) -> bytes:
    """The file bytes of DG ``number``, which must be present."""
    if number not in groups:
        raise ZoneFormatError(f"{zone} DG{number}", None, "missing")
    return groups[number]


def reject_foreign_groups(zone: str, groups: Mapping[int, bytes], allowed: set[int]) -> None:
    """Raise :class:`ZoneFormatError` for the lowest DG number of ``groups`` outside ``allowed``."""
    extra = sorted(set(groups) - allowed)
    if extra:
        raise ZoneFormatError(f"{zone} DG{extra[0]}", None, "not a data group of this zone")


# --- field codecs ---------------------------------------------------------------------------------------


def check_text(dg: str, field: str, text: str, *, allow_empty: bool = False) -> None:
    if not isinstance(text, str):
        raise ZoneFormatError(dg, field, "must be text")
    if not text and not allow_empty:
        raise ZoneFormatError(dg, field, "must not be empty")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise ZoneFormatError(dg, field, "contains control characters or lone surrogates")


def text_from(dg: str, field: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ZoneFormatError(dg, field, "not valid UTF-8") from exc


def check_digits(dg: str, field: str, value: str, length: int) -> None:
    if not isinstance(value, str) or not re.fullmatch(rf"[0-9]{{{length}}}", value):
        raise ZoneFormatError(dg, field, f"must be {length} ASCII digits")


def ascii_from(dg: str, field: str, raw: bytes) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ZoneFormatError(dg, field, "not ASCII") from exc


def date_bytes(dg: str, field: str, value: datetime.date) -> bytes:
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ZoneFormatError(dg, field, "must be a datetime.date")
    return f"{value.year:04d}{value.month:02d}{value.day:02d}".encode("ascii")


def date_from(dg: str, field: str, raw: bytes) -> datetime.date:
    if not re.fullmatch(rb"[0-9]{8}", raw):
        raise ZoneFormatError(dg, field, "date must be YYYYMMDD")
    try:
        return datetime.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError as exc:
        raise ZoneFormatError(dg, field, "not a calendar date") from exc


def require_field(dg: str, fields: Mapping[str, bytes], name: str) -> bytes:
    if name not in fields:
        raise ZoneFormatError(dg, name, "missing")
    return fields[name]

