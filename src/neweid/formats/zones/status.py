"""The public zone's civil-status data groups: DG5 marital status and DG6 military service, with their
code enums (the codes are what the DG files hold)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from neweid.formats.zones._codec import (
    ZoneFormatError,
    ascii_from,
    check_text,
    decode_fields,
    encode_fields,
    require_field,
    text_from,
)


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
        return encode_fields(self.NUMBER, ("status",), {"status": self.status.value.encode("ascii")})

    @classmethod
    def decode(cls, data: bytes) -> MaritalStatusDG:
        f = decode_fields(data, cls.NUMBER, cls._NAME, ("status",))
        code = ascii_from(cls._NAME, "status", require_field(cls._NAME, f, "status"))
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
        check_text(self._NAME, "text", self.text)

    def encode(self) -> bytes:
        return encode_fields(self.NUMBER, self._FIELDS, {
            "status": self.status.value.encode("ascii"), "text": self.text.encode("utf-8"),
        })

    @classmethod
    def decode(cls, data: bytes) -> MilitaryService:
        dg = cls._NAME
        f = decode_fields(data, cls.NUMBER, dg, cls._FIELDS)
        code = ascii_from(dg, "status", require_field(dg, f, "status"))
        try:
            status = MilitaryStatus(code)
        except ValueError as exc:
            raise ZoneFormatError(dg, "status", f"unknown code {code!r}") from exc
        return cls(status, text_from(dg, "text", require_field(dg, f, "text")))
