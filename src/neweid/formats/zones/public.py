"""The public zone (公開區): name, ID number, dates, address, card serial, photo and the Active
Authentication key (DG1-DG4, DG7-DG10, DG15), and the zone as a whole (DG5 and DG6 are in
:mod:`neweid.formats.zones.status`)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from asn1crypto import keys as asn1_keys

from neweid.formats.tlv import encode_tlv
from neweid.formats.zones._codec import (
    ZoneFormatError,
    ascii_from,
    check_digits,
    check_text,
    date_bytes,
    date_from,
    decode_fields,
    dg_tag,
    encode_fields,
    group_bytes,
    reject_foreign_groups,
    require_field,
    text_from,
    unwrap_dg,
)
from neweid.formats.zones.status import MaritalStatusDG, MilitaryService


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
        check_text(self._NAME, "chinese_name", self.chinese_name)
        check_text(self._NAME, "romanised_name", self.romanised_name)
        if self.foreign_name is not None:
            check_text(self._NAME, "foreign_name", self.foreign_name)

    def encode(self) -> bytes:
        return encode_fields(self.NUMBER, self._FIELDS, {
            "chinese_name": self.chinese_name.encode("utf-8"),
            "foreign_name": None if self.foreign_name is None else self.foreign_name.encode("utf-8"),
            "romanised_name": self.romanised_name.encode("utf-8"),
        })

    @classmethod
    def decode(cls, data: bytes) -> PublicName:
        dg = cls._NAME
        f = decode_fields(data, cls.NUMBER, dg, cls._FIELDS)
        foreign = f.get("foreign_name")
        return cls(
            chinese_name=text_from(dg, "chinese_name", require_field(dg, f, "chinese_name")),
            romanised_name=text_from(dg, "romanised_name", require_field(dg, f, "romanised_name")),
            foreign_name=None if foreign is None else text_from(dg, "foreign_name", foreign),
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
        return encode_fields(self.NUMBER, ("id_number",), {"id_number": self.id_number.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> IdNumberDG:
        f = decode_fields(data, cls.NUMBER, cls._NAME, ("id_number",))
        return cls(ascii_from(cls._NAME, "id_number", require_field(cls._NAME, f, "id_number")))


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
        date_bytes(self._NAME, "date", value)

    def encode(self) -> bytes:
        value = self._date()
        raw = None if value is None else date_bytes(self._NAME, "date", value)
        return encode_fields(self.NUMBER, ("date",), {"date": raw})

    @classmethod
    def _decode_date(cls, data: bytes) -> datetime.date | None:
        f = decode_fields(data, cls.NUMBER, cls._NAME, ("date",))
        raw = f.get("date")
        if raw is None:
            if not cls._OPTIONAL:
                raise ZoneFormatError(cls._NAME, "date", "missing")
            return None
        return date_from(cls._NAME, "date", raw)

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
        check_text(self._NAME, "address", self.address)
        check_digits(self._NAME, "village_code", self.village_code, 11)

    def encode(self) -> bytes:
        return encode_fields(self.NUMBER, self._FIELDS, {
            "address": self.address.encode("utf-8"), "village_code": self.village_code.encode("ascii"),
        })

    @classmethod
    def decode(cls, data: bytes) -> Address:
        dg = cls._NAME
        f = decode_fields(data, cls.NUMBER, dg, cls._FIELDS)
        return cls(text_from(dg, "address", require_field(dg, f, "address")),
                   ascii_from(dg, "village_code", require_field(dg, f, "village_code")))


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
        return encode_fields(self.NUMBER, ("serial",), {"serial": self.serial.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> CardSerial:
        f = decode_fields(data, cls.NUMBER, cls._NAME, ("serial",))
        return cls(ascii_from(cls._NAME, "serial", require_field(cls._NAME, f, "serial")))


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
        return encode_fields(self.NUMBER, ("jpeg",), {"jpeg": self.jpeg})

    @classmethod
    def decode(cls, data: bytes) -> Photo:
        f = decode_fields(data, cls.NUMBER, cls._NAME, ("jpeg",))
        return cls(bytes(require_field(cls._NAME, f, "jpeg")))


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
        return encode_tlv(dg_tag(self.NUMBER), self.subject_public_key_info)

    @classmethod
    def decode(cls, data: bytes) -> AaPublicKey:
        return cls(bytes(unwrap_dg(data, cls.NUMBER, cls._NAME)))


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
        reject_foreign_groups("public", groups, {*range(1, 11), 15})
        aa = groups.get(15)
        return cls(
            name=PublicName.decode(group_bytes("public", groups, 1)),
            id_number=IdNumberDG.decode(group_bytes("public", groups, 2)),
            birth_date=BirthDate.decode(group_bytes("public", groups, 3)),
            address=Address.decode(group_bytes("public", groups, 4)),
            marital_status=MaritalStatusDG.decode(group_bytes("public", groups, 5)),
            military_service=MilitaryService.decode(group_bytes("public", groups, 6)),
            card_serial=CardSerial.decode(group_bytes("public", groups, 7)),
            renewal_date=RenewalDate.decode(group_bytes("public", groups, 8)),
            issue_date=IssueDate.decode(group_bytes("public", groups, 9)),
            photo=Photo.decode(group_bytes("public", groups, 10)),
            aa_public_key=None if aa is None else AaPublicKey.decode(aa),
        )
