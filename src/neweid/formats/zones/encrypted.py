"""The encrypted zone (加密區): parents' and spouse's names, birthplace, sex and the CAN (DG1-DG6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from neweid.formats.sex import Sex
from neweid.formats.zones._codec import (
    ZoneFormatError,
    ascii_from,
    check_digits,
    check_text,
    decode_fields,
    encode_fields,
    group_bytes,
    reject_foreign_groups,
    require_field,
    text_from,
)


@dataclass(frozen=True)
class _PersonNameDG:
    """A data group holding one optional name (``None``: not recorded, e.g. no spouse)."""

    name: str | None

    NUMBER: ClassVar[int] = 0
    _NAME: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if self.name is not None:
            check_text(self._NAME, "name", self.name)

    def encode(self) -> bytes:
        raw = None if self.name is None else self.name.encode()
        return encode_fields(self.NUMBER, ("name",), {"name": raw})

    @classmethod
    def _decode_name(cls, data: bytes) -> str | None:
        raw = decode_fields(data, cls.NUMBER, cls._NAME, ("name",)).get("name")
        return None if raw is None else text_from(cls._NAME, "name", raw)


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
        check_text(self._NAME, "name", self.name)
        if self.county_code is not None:
            check_digits(self._NAME, "county_code", self.county_code, 5)

    def encode(self) -> bytes:
        return encode_fields(self.NUMBER, self._FIELDS, {
            "county_code": None if self.county_code is None else self.county_code.encode("ascii"),
            "name": self.name.encode("utf-8"),
        })

    @classmethod
    def decode(cls, data: bytes) -> Birthplace:
        dg = cls._NAME
        f = decode_fields(data, cls.NUMBER, dg, cls._FIELDS)
        code = f.get("county_code")
        return cls(text_from(dg, "name", require_field(dg, f, "name")),
                   None if code is None else ascii_from(dg, "county_code", code))


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
        return encode_fields(self.NUMBER, ("sex",), {"sex": self.sex.value.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> SexDG:
        f = decode_fields(data, cls.NUMBER, cls._NAME, ("sex",))
        code = ascii_from(cls._NAME, "sex", require_field(cls._NAME, f, "sex"))
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
        check_digits(self._NAME, "can", self.can, 6)

    def encode(self) -> bytes:
        return encode_fields(self.NUMBER, ("can",), {"can": self.can.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> CanDG:
        f = decode_fields(data, cls.NUMBER, cls._NAME, ("can",))
        return cls(ascii_from(cls._NAME, "can", require_field(cls._NAME, f, "can")))


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
        reject_foreign_groups("encrypted", groups, set(range(1, 7)))
        return cls(
            spouse=SpouseName.decode(group_bytes("encrypted", groups, 1)),
            father=FatherName.decode(group_bytes("encrypted", groups, 2)),
            mother=MotherName.decode(group_bytes("encrypted", groups, 3)),
            birthplace=Birthplace.decode(group_bytes("encrypted", groups, 4)),
            sex=SexDG.decode(group_bytes("encrypted", groups, 5)),
            can=CanDG.decode(group_bytes("encrypted", groups, 6)),
        )
