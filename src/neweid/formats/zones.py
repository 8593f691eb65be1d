"""The data groups of the chip's zones (CARD-2): values and their DG file bytes.

Tag plan (fixed; documented in docs/card-file-map.md by the file map's owner)
-----------------------------------------------------------------------------
Every DG file is exactly one BER-TLV: a constructed application-class tag ``0x60 + n`` for DG *n*
(DG1 ``61`` … DG10 ``6A``, DG15 ``6F``, as ICAO 9303-10 does for DG15), whatever the zone (the zone is
given by the DF the file is in). Inside it the fields are primitive context-specific TLVs numbered from
``80`` in the order listed below; an optional field that is absent is left out, so an empty optional DG
is the bare outer tag with length 0 (e.g. ``68 00``: no renewal date). DG15 holds the DER
SubjectPublicKeyInfo itself (``6F L 30 …``).

Field encodings: text is UTF-8 (any Unicode, including characters outside the BMP such as 𡘙, no
control characters); dates are ``YYYYMMDD`` in ASCII (Western calendar); codes and numbers are ASCII
digits. Lengths are definite and minimal (at most 3 length bytes); decoding is strict: wrong outer
tag, unknown, duplicate, missing or out-of-order fields and trailing bytes are :class:`ZoneFormatError`.

==========  ===  ===========================================================================
zone        DG   fields (tag)
==========  ===  ===========================================================================
household   1    county_code 80, county_name 81, township_code 82, township_name 83,
                 village_code 84, village_name 85, neighbourhood 86
public      1    chinese_name 80, foreign_name 81 (optional), romanised_name 82
public      2    id_number 80
public      3    birth_date 80
public      4    address 80, village_code 81
public      5    marital status code 80 (``M``/``S``)
public      6    military status code 80 (2 digits), text 81
public      7    card serial 80
public      8    renewal date 80 (optional: none from age 65, CARD-10)
public      9    issue date 80
public      10   JPEG 80 (SOI ``FFD8`` … EOI ``FFD9``)
public      15   SubjectPublicKeyInfo (DER, the Active Authentication key)
encrypted   1    spouse name 80 (optional)
encrypted   2    father's name 80 (optional)
encrypted   3    mother's name 80 (optional)
encrypted   4    county_code 80 (optional: absent for a place outside Taiwan), name 81
encrypted   5    sex 80 (``M``/``F``)
encrypted   6    CAN 80 (6 digits)
==========  ===  ===========================================================================
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from asn1crypto import keys as asn1_keys

from neweid.formats.errors import FormatError
from neweid.formats.sex import Sex

__all__ = [
    "AaPublicKey",
    "Address",
    "BirthDate",
    "Birthplace",
    "CanDG",
    "CardSerial",
    "EncryptedZone",
    "FatherName",
    "HouseholdRegion",
    "HouseholdZone",
    "IdNumberDG",
    "IssueDate",
    "MaritalStatus",
    "MaritalStatusDG",
    "MilitaryService",
    "MilitaryStatus",
    "MotherName",
    "Photo",
    "PublicName",
    "PublicZone",
    "RenewalDate",
    "SexDG",
    "SpouseName",
    "ZoneFormatError",
    "dg_tag",
]


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


# --- minimal strict BER-TLV (single-byte tags are all this module needs) ------------------------------


def _encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _encode_length(len(value)) + value


def _parse(data: bytes, dg: str) -> list[tuple[int, bytes]]:
    """Split ``data`` into (tag, value) pairs; single-byte tags, definite minimal lengths."""
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        tag = data[pos]
        if tag & 0x1F == 0x1F:
            raise ZoneFormatError(dg, None, f"unexpected multi-byte tag at offset {pos}")
        pos += 1
        if pos >= len(data):
            raise ZoneFormatError(dg, None, "truncated TLV: length missing")
        first = data[pos]
        pos += 1
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            if count == 0 or count > 3:
                raise ZoneFormatError(dg, None, "indefinite or oversized length")
            if pos + count > len(data):
                raise ZoneFormatError(dg, None, "truncated TLV length")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
            if _encode_length(length) != bytes([first]) + data[pos - count : pos]:
                raise ZoneFormatError(dg, None, "non-minimal length encoding")
        if pos + length > len(data):
            raise ZoneFormatError(dg, None, "truncated TLV value")
        items.append((tag, data[pos : pos + length]))
        pos += length
    return items


def _unwrap(data: bytes, number: int, dg: str) -> bytes:
    items = _parse(bytes(data), dg)
    if len(items) != 1:
        raise ZoneFormatError(dg, None, "expected exactly one outer TLV")
    tag, value = items[0]
    if tag != dg_tag(number):
        raise ZoneFormatError(dg, None, f"outer tag {tag:02X}, expected {dg_tag(number):02X}")
    return value


def _fields(data: bytes, number: int, dg: str, names: tuple[str, ...]) -> dict[str, bytes]:
    """Decode DG file bytes into {field name: raw value}; field i has tag 0x80 + i."""
    out: dict[str, bytes] = {}
    last = -1
    for tag, value in _parse(_unwrap(data, number, dg), dg):
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


def _build(number: int, names: tuple[str, ...], values: Mapping[str, bytes | None]) -> bytes:
    body = b"".join(
        _tlv(0x80 + i, value) for i, name in enumerate(names) if (value := values.get(name)) is not None
    )
    return _tlv(dg_tag(number), body)


# --- field codecs -------------------------------------------------------------------------------------


def _check_text(dg: str, field: str, text: str, *, allow_empty: bool = False) -> None:
    if not isinstance(text, str):
        raise ZoneFormatError(dg, field, "must be text")
    if not text and not allow_empty:
        raise ZoneFormatError(dg, field, "must not be empty")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise ZoneFormatError(dg, field, "contains control characters or lone surrogates")


def _text_from(dg: str, field: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ZoneFormatError(dg, field, "not valid UTF-8") from exc


def _check_digits(dg: str, field: str, value: str, length: int) -> None:
    if not isinstance(value, str) or not re.fullmatch(rf"[0-9]{{{length}}}", value):
        raise ZoneFormatError(dg, field, f"must be {length} ASCII digits")


def _ascii_from(dg: str, field: str, raw: bytes) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ZoneFormatError(dg, field, "not ASCII") from exc


def _date_bytes(dg: str, field: str, value: datetime.date) -> bytes:
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ZoneFormatError(dg, field, "must be a datetime.date")
    return f"{value.year:04d}{value.month:02d}{value.day:02d}".encode("ascii")


def _date_from(dg: str, field: str, raw: bytes) -> datetime.date:
    if not re.fullmatch(rb"[0-9]{8}", raw):
        raise ZoneFormatError(dg, field, "date must be YYYYMMDD")
    try:
        return datetime.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError as exc:
        raise ZoneFormatError(dg, field, "not a calendar date") from exc


def _require(dg: str, fields: Mapping[str, bytes], name: str) -> bytes:
    if name not in fields:
        raise ZoneFormatError(dg, name, "missing")
    return fields[name]


# --- household zone ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdRegion:
    """Household zone DG1: county / township / village (codes per MOI, see shared data README), 鄰."""

    county_code: str  # 5 digits, e.g. 65000 新北市
    county_name: str
    township_code: str  # 8 digits, starts with the county code
    township_name: str
    village_code: str  # 11 digits, starts with the township code
    village_name: str
    neighbourhood: int  # 鄰, 1..9999

    NUMBER: ClassVar[int] = 1
    _NAME: ClassVar[str] = "household DG1"
    _FIELDS: ClassVar[tuple[str, ...]] = (
        "county_code", "county_name", "township_code", "township_name", "village_code", "village_name",
        "neighbourhood",
    )

    def __post_init__(self) -> None:
        dg = self._NAME
        _check_digits(dg, "county_code", self.county_code, 5)
        _check_digits(dg, "township_code", self.township_code, 8)
        _check_digits(dg, "village_code", self.village_code, 11)
        if not self.township_code.startswith(self.county_code):
            raise ZoneFormatError(dg, "township_code", "does not start with the county code")
        if not self.village_code.startswith(self.township_code):
            raise ZoneFormatError(dg, "village_code", "does not start with the township code")
        for name in ("county_name", "township_name", "village_name"):
            _check_text(dg, name, getattr(self, name))
        if type(self.neighbourhood) is not int or not 1 <= self.neighbourhood <= 9999:
            raise ZoneFormatError(dg, "neighbourhood", "must be an integer from 1 to 9999")

    def encode(self) -> bytes:
        return _build(self.NUMBER, self._FIELDS, {
            "county_code": self.county_code.encode("ascii"),
            "county_name": self.county_name.encode("utf-8"),
            "township_code": self.township_code.encode("ascii"),
            "township_name": self.township_name.encode("utf-8"),
            "village_code": self.village_code.encode("ascii"),
            "village_name": self.village_name.encode("utf-8"),
            "neighbourhood": str(self.neighbourhood).encode("ascii"),
        })

    @classmethod
    def decode(cls, data: bytes) -> HouseholdRegion:
        dg = cls._NAME
        f = _fields(data, cls.NUMBER, dg, cls._FIELDS)
        raw = {name: _require(dg, f, name) for name in cls._FIELDS}
        hood = _ascii_from(dg, "neighbourhood", raw["neighbourhood"])
        if not re.fullmatch(r"[1-9][0-9]{0,3}", hood):
            raise ZoneFormatError(dg, "neighbourhood", "must be 1-4 digits without leading zeros")
        return cls(
            county_code=_ascii_from(dg, "county_code", raw["county_code"]),
            county_name=_text_from(dg, "county_name", raw["county_name"]),
            township_code=_ascii_from(dg, "township_code", raw["township_code"]),
            township_name=_text_from(dg, "township_name", raw["township_name"]),
            village_code=_ascii_from(dg, "village_code", raw["village_code"]),
            village_name=_text_from(dg, "village_name", raw["village_name"]),
            neighbourhood=int(hood),
        )


# --- simple single-field data groups ------------------------------------------------------------------


@dataclass(frozen=True)
class PublicName:
    """Public zone DG1: Chinese name, optional foreign name, romanised name (CARD-1)."""

    chinese_name: str
    romanised_name: str
    foreign_name: str | None = None

    NUMBER: ClassVar[int] = 1
    _NAME: ClassVar[str] = "public DG1"
    _FIELDS: ClassVar[tuple[str, ...]] = ("chinese_name", "foreign_name", "romanised_name")

    def __post_init__(self) -> None:
        _check_text(self._NAME, "chinese_name", self.chinese_name)
        _check_text(self._NAME, "romanised_name", self.romanised_name)
        if self.foreign_name is not None:
            _check_text(self._NAME, "foreign_name", self.foreign_name)

    def encode(self) -> bytes:
        return _build(self.NUMBER, self._FIELDS, {
            "chinese_name": self.chinese_name.encode("utf-8"),
            "foreign_name": None if self.foreign_name is None else self.foreign_name.encode("utf-8"),
            "romanised_name": self.romanised_name.encode("utf-8"),
        })

    @classmethod
    def decode(cls, data: bytes) -> PublicName:
        dg = cls._NAME
        f = _fields(data, cls.NUMBER, dg, cls._FIELDS)
        foreign = f.get("foreign_name")
        return cls(
            chinese_name=_text_from(dg, "chinese_name", _require(dg, f, "chinese_name")),
            romanised_name=_text_from(dg, "romanised_name", _require(dg, f, "romanised_name")),
            foreign_name=None if foreign is None else _text_from(dg, "foreign_name", foreign),
        )


@dataclass(frozen=True)
class IdNumberDG:
    """Public zone DG2: the ID number. Only its shape (letter + 9 digits) is checked here; the
    check digit belongs to the ID-number codec."""

    id_number: str

    NUMBER: ClassVar[int] = 2
    _NAME: ClassVar[str] = "public DG2"

    def __post_init__(self) -> None:
        if not isinstance(self.id_number, str) or not re.fullmatch(r"[A-Z][0-9]{9}", self.id_number):
            raise ZoneFormatError(self._NAME, "id_number", "must be an upper-case letter and 9 digits")

    def encode(self) -> bytes:
        return _build(self.NUMBER, ("id_number",), {"id_number": self.id_number.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> IdNumberDG:
        f = _fields(data, cls.NUMBER, cls._NAME, ("id_number",))
        return cls(_ascii_from(cls._NAME, "id_number", _require(cls._NAME, f, "id_number")))


@dataclass(frozen=True)
class _DateDG:
    """A data group holding one date (``optional``: the date may be absent)."""

    NUMBER: ClassVar[int] = 0
    _NAME: ClassVar[str] = ""
    _OPTIONAL: ClassVar[bool] = False

    def _date(self) -> datetime.date | None:
        raise NotImplementedError

    def _check(self) -> None:
        value = self._date()
        if value is None:
            if not self._OPTIONAL:
                raise ZoneFormatError(self._NAME, "date", "missing")
            return
        _date_bytes(self._NAME, "date", value)

    def encode(self) -> bytes:
        value = self._date()
        raw = None if value is None else _date_bytes(self._NAME, "date", value)
        return _build(self.NUMBER, ("date",), {"date": raw})

    @classmethod
    def _decode_date(cls, data: bytes) -> datetime.date | None:
        f = _fields(data, cls.NUMBER, cls._NAME, ("date",))
        raw = f.get("date")
        if raw is None:
            if not cls._OPTIONAL:
                raise ZoneFormatError(cls._NAME, "date", "missing")
            return None
        return _date_from(cls._NAME, "date", raw)

    @classmethod
    def _decode_required_date(cls, data: bytes) -> datetime.date:
        value = cls._decode_date(data)
        if value is None:
            raise ZoneFormatError(cls._NAME, "date", "missing")
        return value


@dataclass(frozen=True)
class BirthDate(_DateDG):
    """Public zone DG3: date of birth."""

    date: datetime.date

    NUMBER: ClassVar[int] = 3
    _NAME: ClassVar[str] = "public DG3"

    def __post_init__(self) -> None:
        self._check()

    def _date(self) -> datetime.date | None:
        return self.date

    @classmethod
    def decode(cls, data: bytes) -> BirthDate:
        return cls(cls._decode_required_date(data))


@dataclass(frozen=True)
class RenewalDate(_DateDG):
    """Public zone DG8: renewal date; ``None`` when the holder has none (65 or older, CARD-10)."""

    date: datetime.date | None

    NUMBER: ClassVar[int] = 8
    _NAME: ClassVar[str] = "public DG8"
    _OPTIONAL: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._check()

    def _date(self) -> datetime.date | None:
        return self.date

    @classmethod
    def decode(cls, data: bytes) -> RenewalDate:
        return cls(cls._decode_date(data))


@dataclass(frozen=True)
class IssueDate(_DateDG):
    """Public zone DG9: date of issue."""

    date: datetime.date

    NUMBER: ClassVar[int] = 9
    _NAME: ClassVar[str] = "public DG9"

    def __post_init__(self) -> None:
        self._check()

    def _date(self) -> datetime.date | None:
        return self.date

    @classmethod
    def decode(cls, data: bytes) -> IssueDate:
        return cls(cls._decode_required_date(data))


@dataclass(frozen=True)
class Address:
    """Public zone DG4: the full household address and the 11-digit code of its village."""

    address: str
    village_code: str

    NUMBER: ClassVar[int] = 4
    _NAME: ClassVar[str] = "public DG4"
    _FIELDS: ClassVar[tuple[str, ...]] = ("address", "village_code")

    def __post_init__(self) -> None:
        _check_text(self._NAME, "address", self.address)
        _check_digits(self._NAME, "village_code", self.village_code, 11)

    def encode(self) -> bytes:
        return _build(self.NUMBER, self._FIELDS, {
            "address": self.address.encode("utf-8"), "village_code": self.village_code.encode("ascii"),
        })

    @classmethod
    def decode(cls, data: bytes) -> Address:
        dg = cls._NAME
        f = _fields(data, cls.NUMBER, dg, cls._FIELDS)
        return cls(_text_from(dg, "address", _require(dg, f, "address")),
                   _ascii_from(dg, "village_code", _require(dg, f, "village_code")))


class MaritalStatus(StrEnum):
    """Marital status as the card shows it (CARD-1: only 有/無, "Married"/"Single")."""

    MARRIED = "M"
    SINGLE = "S"

    @property
    def label_zh(self) -> str:
        return "有" if self is MaritalStatus.MARRIED else "無"

    @property
    def label_en(self) -> str:
        return "Married" if self is MaritalStatus.MARRIED else "Single"


@dataclass(frozen=True)
class MaritalStatusDG:
    """Public zone DG5."""

    status: MaritalStatus

    NUMBER: ClassVar[int] = 5
    _NAME: ClassVar[str] = "public DG5"

    def __post_init__(self) -> None:
        if not isinstance(self.status, MaritalStatus):
            raise ZoneFormatError(self._NAME, "status", "must be a MaritalStatus")

    def encode(self) -> bytes:
        return _build(self.NUMBER, ("status",), {"status": self.status.value.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> MaritalStatusDG:
        f = _fields(data, cls.NUMBER, cls._NAME, ("status",))
        code = _ascii_from(cls._NAME, "status", _require(cls._NAME, f, "status"))
        try:
            return cls(MaritalStatus(code))
        except ValueError as exc:
            raise ZoneFormatError(cls._NAME, "status", f"unknown code {code!r}") from exc


class MilitaryStatus(StrEnum):
    """Military service status (役別) as recorded by the household registration; value = DG code."""

    REGULAR = "01"  # 常備役 (completed regular service)
    MILITARY_TRAINING = "02"  # 軍事訓練役 (4-month training, born 1994 or later)
    SUBSTITUTE = "03"  # 替代役
    SUPPLEMENTARY = "04"  # 補充兵役
    NATIONAL_GUARD = "05"  # 國民兵役
    EXEMPT = "06"  # 免役
    BARRED = "07"  # 禁役
    NOT_SERVED = "08"  # 未服役
    NOT_APPLICABLE_FEMALE = "09"  # 女性無役別

    @property
    def label_zh(self) -> str:
        return _MILITARY_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _MILITARY_LABELS[self][1]


_MILITARY_LABELS: dict[MilitaryStatus, tuple[str, str]] = {
    MilitaryStatus.REGULAR: ("常備役", "Regular service"),
    MilitaryStatus.MILITARY_TRAINING: ("軍事訓練役", "Military training service"),
    MilitaryStatus.SUBSTITUTE: ("替代役", "Substitute service"),
    MilitaryStatus.SUPPLEMENTARY: ("補充兵役", "Supplementary service"),
    MilitaryStatus.NATIONAL_GUARD: ("國民兵役", "National guard service"),
    MilitaryStatus.EXEMPT: ("免役", "Exempt"),
    MilitaryStatus.BARRED: ("禁役", "Barred from service"),
    MilitaryStatus.NOT_SERVED: ("未服役", "Not yet served"),
    MilitaryStatus.NOT_APPLICABLE_FEMALE: ("女性無役別", "Not applicable (female)"),
}


@dataclass(frozen=True)
class MilitaryService:
    """Public zone DG6: status code plus the text as registered (usually the status's Chinese label)."""

    status: MilitaryStatus
    text: str

    NUMBER: ClassVar[int] = 6
    _NAME: ClassVar[str] = "public DG6"
    _FIELDS: ClassVar[tuple[str, ...]] = ("status", "text")

    @classmethod
    def of(cls, status: MilitaryStatus) -> MilitaryService:
        """The DG with the status's standard Chinese label as text."""
        return cls(status, status.label_zh)

    def __post_init__(self) -> None:
        if not isinstance(self.status, MilitaryStatus):
            raise ZoneFormatError(self._NAME, "status", "must be a MilitaryStatus")
        _check_text(self._NAME, "text", self.text)

    def encode(self) -> bytes:
        return _build(self.NUMBER, self._FIELDS, {
            "status": self.status.value.encode("ascii"), "text": self.text.encode("utf-8"),
        })

    @classmethod
    def decode(cls, data: bytes) -> MilitaryService:
        dg = cls._NAME
        f = _fields(data, cls.NUMBER, dg, cls._FIELDS)
        code = _ascii_from(dg, "status", _require(dg, f, "status"))
        try:
            status = MilitaryStatus(code)
        except ValueError as exc:
            raise ZoneFormatError(dg, "status", f"unknown code {code!r}") from exc
        return cls(status, _text_from(dg, "text", _require(dg, f, "text")))


@dataclass(frozen=True)
class CardSerial:
    """Public zone DG7: the card serial number: 6 to 32 upper-case letters or digits ending in 6
    digits (the CAN, CARD-2)."""

    serial: str

    NUMBER: ClassVar[int] = 7
    _NAME: ClassVar[str] = "public DG7"

    def __post_init__(self) -> None:
        if not isinstance(self.serial, str) or not re.fullmatch(r"[0-9A-Z]{0,26}[0-9]{6}", self.serial):
            raise ZoneFormatError(self._NAME, "serial",
                                  "must be 6-32 upper-case letters/digits ending in 6 digits")

    @property
    def can(self) -> str:
        """The card access number: the last 6 digits of the serial."""
        return self.serial[-6:]

    def encode(self) -> bytes:
        return _build(self.NUMBER, ("serial",), {"serial": self.serial.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> CardSerial:
        f = _fields(data, cls.NUMBER, cls._NAME, ("serial",))
        return cls(_ascii_from(cls._NAME, "serial", _require(cls._NAME, f, "serial")))


@dataclass(frozen=True)
class Photo:
    """Public zone DG10: the holder's photo as JPEG (SOI ``FFD8`` … EOI ``FFD9``)."""

    jpeg: bytes

    NUMBER: ClassVar[int] = 10
    _NAME: ClassVar[str] = "public DG10"

    def __post_init__(self) -> None:
        if not isinstance(self.jpeg, bytes):
            raise ZoneFormatError(self._NAME, "jpeg", "must be bytes")
        if len(self.jpeg) < 4 or self.jpeg[:2] != b"\xff\xd8" or self.jpeg[-2:] != b"\xff\xd9":
            raise ZoneFormatError(self._NAME, "jpeg", "not a JPEG (missing SOI FFD8 or EOI FFD9)")
        if len(self.jpeg) > 0xFFFFFF - 16:
            raise ZoneFormatError(self._NAME, "jpeg", "too large")

    def encode(self) -> bytes:
        return _build(self.NUMBER, ("jpeg",), {"jpeg": self.jpeg})

    @classmethod
    def decode(cls, data: bytes) -> Photo:
        f = _fields(data, cls.NUMBER, cls._NAME, ("jpeg",))
        return cls(bytes(_require(cls._NAME, f, "jpeg")))


@dataclass(frozen=True)
class AaPublicKey:
    """Public zone DG15: the Active Authentication public key as DER SubjectPublicKeyInfo."""

    subject_public_key_info: bytes

    NUMBER: ClassVar[int] = 15
    _NAME: ClassVar[str] = "public DG15"

    def __post_init__(self) -> None:
        spki = self.subject_public_key_info
        if not isinstance(spki, bytes):
            raise ZoneFormatError(self._NAME, "subject_public_key_info", "must be bytes")
        try:
            parsed = asn1_keys.PublicKeyInfo.load(spki, strict=True)
            parsed.native  # noqa: B018 - forces a full parse
            canonical = parsed.dump(force=True)
        except (ValueError, TypeError, KeyError) as exc:
            raise ZoneFormatError(self._NAME, "subject_public_key_info",
                                  "not a DER SubjectPublicKeyInfo") from exc
        if canonical != spki:
            raise ZoneFormatError(self._NAME, "subject_public_key_info", "not DER encoded")

    def encode(self) -> bytes:
        return _tlv(dg_tag(self.NUMBER), self.subject_public_key_info)

    @classmethod
    def decode(cls, data: bytes) -> AaPublicKey:
        return cls(bytes(_unwrap(data, cls.NUMBER, cls._NAME)))


# --- encrypted zone ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PersonNameDG:
    """A data group holding one optional name (``None``: not recorded, e.g. no spouse)."""

    name: str | None

    NUMBER: ClassVar[int] = 0
    _NAME: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if self.name is not None:
            _check_text(self._NAME, "name", self.name)

    def encode(self) -> bytes:
        return _build(self.NUMBER, ("name",), {"name": None if self.name is None else self.name.encode()})

    @classmethod
    def _decode_name(cls, data: bytes) -> str | None:
        raw = _fields(data, cls.NUMBER, cls._NAME, ("name",)).get("name")
        return None if raw is None else _text_from(cls._NAME, "name", raw)


@dataclass(frozen=True)
class SpouseName(_PersonNameDG):
    """Encrypted zone DG1: spouse's name (``None``: no spouse)."""

    NUMBER: ClassVar[int] = 1
    _NAME: ClassVar[str] = "encrypted DG1"

    @classmethod
    def decode(cls, data: bytes) -> SpouseName:
        return cls(cls._decode_name(data))


@dataclass(frozen=True)
class FatherName(_PersonNameDG):
    """Encrypted zone DG2: father's name (``None``: not recorded)."""

    NUMBER: ClassVar[int] = 2
    _NAME: ClassVar[str] = "encrypted DG2"

    @classmethod
    def decode(cls, data: bytes) -> FatherName:
        return cls(cls._decode_name(data))


@dataclass(frozen=True)
class MotherName(_PersonNameDG):
    """Encrypted zone DG3: mother's name (``None``: not recorded)."""

    NUMBER: ClassVar[int] = 3
    _NAME: ClassVar[str] = "encrypted DG3"

    @classmethod
    def decode(cls, data: bytes) -> MotherName:
        return cls(cls._decode_name(data))


@dataclass(frozen=True)
class Birthplace:
    """Encrypted zone DG4: a county (5-digit code + name) or, with ``county_code=None``, a place
    outside Taiwan's counties (a foreign country, or a historical province) by name."""

    name: str
    county_code: str | None = None

    NUMBER: ClassVar[int] = 4
    _NAME: ClassVar[str] = "encrypted DG4"
    _FIELDS: ClassVar[tuple[str, ...]] = ("county_code", "name")

    def __post_init__(self) -> None:
        _check_text(self._NAME, "name", self.name)
        if self.county_code is not None:
            _check_digits(self._NAME, "county_code", self.county_code, 5)

    def encode(self) -> bytes:
        return _build(self.NUMBER, self._FIELDS, {
            "county_code": None if self.county_code is None else self.county_code.encode("ascii"),
            "name": self.name.encode("utf-8"),
        })

    @classmethod
    def decode(cls, data: bytes) -> Birthplace:
        dg = cls._NAME
        f = _fields(data, cls.NUMBER, dg, cls._FIELDS)
        code = f.get("county_code")
        return cls(_text_from(dg, "name", _require(dg, f, "name")),
                   None if code is None else _ascii_from(dg, "county_code", code))


@dataclass(frozen=True)
class SexDG:
    """Encrypted zone DG5: sex (``M``/``F``)."""

    sex: Sex

    NUMBER: ClassVar[int] = 5
    _NAME: ClassVar[str] = "encrypted DG5"

    def __post_init__(self) -> None:
        if not isinstance(self.sex, Sex):
            raise ZoneFormatError(self._NAME, "sex", "must be a Sex")

    def encode(self) -> bytes:
        return _build(self.NUMBER, ("sex",), {"sex": self.sex.value.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> SexDG:
        f = _fields(data, cls.NUMBER, cls._NAME, ("sex",))
        code = _ascii_from(cls._NAME, "sex", _require(cls._NAME, f, "sex"))
        try:
            return cls(Sex(code))
        except ValueError as exc:
            raise ZoneFormatError(cls._NAME, "sex", f"unknown code {code!r}") from exc


@dataclass(frozen=True)
class CanDG:
    """Encrypted zone DG6: the CAN (6 digits)."""

    can: str

    NUMBER: ClassVar[int] = 6
    _NAME: ClassVar[str] = "encrypted DG6"

    def __post_init__(self) -> None:
        _check_digits(self._NAME, "can", self.can, 6)

    def encode(self) -> bytes:
        return _build(self.NUMBER, ("can",), {"can": self.can.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> CanDG:
        f = _fields(data, cls.NUMBER, cls._NAME, ("can",))
        return cls(_ascii_from(cls._NAME, "can", _require(cls._NAME, f, "can")))


# --- zone aggregates -----------------------------------------------------------------------------------


def _get(zone: str, groups: Mapping[int, bytes], number: int) -> bytes:
    if number not in groups:
        raise ZoneFormatError(f"{zone} DG{number}", None, "missing")
    return groups[number]


def _no_extra(zone: str, groups: Mapping[int, bytes], allowed: set[int]) -> None:
    extra = sorted(set(groups) - allowed)
    if extra:
        raise ZoneFormatError(f"{zone} DG{extra[0]}", None, "not a data group of this zone")


@dataclass(frozen=True)
class HouseholdZone:
    region: HouseholdRegion

    def to_data_groups(self) -> dict[int, bytes]:
        return {1: self.region.encode()}

    @classmethod
    def from_data_groups(cls, groups: Mapping[int, bytes]) -> HouseholdZone:
        _no_extra("household", groups, {1})
        return cls(HouseholdRegion.decode(_get("household", groups, 1)))


@dataclass(frozen=True)
class PublicZone:
    """The public zone; ``aa_public_key`` (DG15) is ``None`` until the chip has generated its key."""

    name: PublicName
    id_number: IdNumberDG
    birth_date: BirthDate
    address: Address
    marital_status: MaritalStatusDG
    military_service: MilitaryService
    card_serial: CardSerial
    renewal_date: RenewalDate
    issue_date: IssueDate
    photo: Photo
    aa_public_key: AaPublicKey | None = None

    def to_data_groups(self) -> dict[int, bytes]:
        groups = {
            1: self.name.encode(), 2: self.id_number.encode(), 3: self.birth_date.encode(),
            4: self.address.encode(), 5: self.marital_status.encode(), 6: self.military_service.encode(),
            7: self.card_serial.encode(), 8: self.renewal_date.encode(), 9: self.issue_date.encode(),
            10: self.photo.encode(),
        }
        if self.aa_public_key is not None:
            groups[15] = self.aa_public_key.encode()
        return groups

    @classmethod
    def from_data_groups(cls, groups: Mapping[int, bytes]) -> PublicZone:
        _no_extra("public", groups, {*range(1, 11), 15})
        aa = groups.get(15)
        return cls(
            name=PublicName.decode(_get("public", groups, 1)),
            id_number=IdNumberDG.decode(_get("public", groups, 2)),
            birth_date=BirthDate.decode(_get("public", groups, 3)),
            address=Address.decode(_get("public", groups, 4)),
            marital_status=MaritalStatusDG.decode(_get("public", groups, 5)),
            military_service=MilitaryService.decode(_get("public", groups, 6)),
            card_serial=CardSerial.decode(_get("public", groups, 7)),
            renewal_date=RenewalDate.decode(_get("public", groups, 8)),
            issue_date=IssueDate.decode(_get("public", groups, 9)),
            photo=Photo.decode(_get("public", groups, 10)),
            aa_public_key=None if aa is None else AaPublicKey.decode(aa),
        )


@dataclass(frozen=True)
class EncryptedZone:
    spouse: SpouseName
    father: FatherName
    mother: MotherName
    birthplace: Birthplace
    sex: SexDG
    can: CanDG

    def to_data_groups(self) -> dict[int, bytes]:
        return {1: self.spouse.encode(), 2: self.father.encode(), 3: self.mother.encode(),
                4: self.birthplace.encode(), 5: self.sex.encode(), 6: self.can.encode()}

    @classmethod
    def from_data_groups(cls, groups: Mapping[int, bytes]) -> EncryptedZone:
        _no_extra("encrypted", groups, set(range(1, 7)))
        return cls(
            spouse=SpouseName.decode(_get("encrypted", groups, 1)),
            father=FatherName.decode(_get("encrypted", groups, 2)),
            mother=MotherName.decode(_get("encrypted", groups, 3)),
            birthplace=Birthplace.decode(_get("encrypted", groups, 4)),
            sex=SexDG.decode(_get("encrypted", groups, 5)),
            can=CanDG.decode(_get("encrypted", groups, 6)),
        )
