"""The household zone (戶籍地區): DG1, the household registration's county, township, village and 鄰."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

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
        check_digits(dg, "county_code", self.county_code, 5)
        check_digits(dg, "township_code", self.township_code, 8)
        check_digits(dg, "village_code", self.village_code, 11)
        if not self.township_code.startswith(self.county_code):
            raise ZoneFormatError(dg, "township_code", "does not start with the county code")
        if not self.village_code.startswith(self.township_code):
            raise ZoneFormatError(dg, "village_code", "does not start with the township code")
        for name in ("county_name", "township_name", "village_name"):
            check_text(dg, name, getattr(self, name))
        if type(self.neighbourhood) is not int or not 1 <= self.neighbourhood <= 9999:
            raise ZoneFormatError(dg, "neighbourhood", "must be an integer from 1 to 9999")

    def encode(self) -> bytes:
        return encode_fields(self.NUMBER, self._FIELDS, {
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
        f = decode_fields(data, cls.NUMBER, dg, cls._FIELDS)
        raw = {name: require_field(dg, f, name) for name in cls._FIELDS}
        hood = ascii_from(dg, "neighbourhood", raw["neighbourhood"])
        if not re.fullmatch(r"[1-9][0-9]{0,3}", hood):
            raise ZoneFormatError(dg, "neighbourhood", "must be 1-4 digits without leading zeros")
        return cls(
            county_code=ascii_from(dg, "county_code", raw["county_code"]),
            county_name=text_from(dg, "county_name", raw["county_name"]),
            township_code=ascii_from(dg, "township_code", raw["township_code"]),
            township_name=text_from(dg, "township_name", raw["township_name"]),
            village_code=ascii_from(dg, "village_code", raw["village_code"]),
            village_name=text_from(dg, "village_name", raw["village_name"]),
            neighbourhood=int(hood),
        )



@dataclass(frozen=True)
class HouseholdZone:
    region: HouseholdRegion

    def to_data_groups(self) -> dict[int, bytes]:
        return {1: self.region.encode()}

    @classmethod
    def from_data_groups(cls, groups: Mapping[int, bytes]) -> HouseholdZone:
        reject_foreign_groups("household", groups, {1})
        return cls(HouseholdRegion.decode(group_bytes("household", groups, 1)))
