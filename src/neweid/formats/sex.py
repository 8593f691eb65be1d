"""Sex as recorded by the household registration and printed on the card (CARD-1, encrypted zone DG5)."""

from __future__ import annotations

from enum import StrEnum


class Sex(StrEnum):
    """The holder's sex; the value (and ``str()``) is the ICAO 9303 MRZ code."""

    MALE = "M"
    FEMALE = "F"

    @property
    def label_zh(self) -> str:
        """The Chinese label printed on documents: 男 or 女."""
        return "男" if self is Sex.MALE else "女"

    @property
    def label_en(self) -> str:
        """The English label: Male or Female."""
        return "Male" if self is Sex.MALE else "Female"
