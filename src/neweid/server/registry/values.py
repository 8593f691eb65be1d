"""Codes of the household registration system, free of Django so that snapshots and the generator share them.

The civil-status codes printed on the card (sex, 有/無 marital status, military service) are the enums of
:mod:`neweid.formats.zones` and :mod:`neweid.formats.sex`; the codes here are the registry's own.
"""

from __future__ import annotations

from enum import StrEnum


class PersonStatus(StrEnum):
    """Registration status of a person; only ``ACTIVE`` people may hold a valid card."""

    ACTIVE = "active"
    DEAD = "dead"  # 死亡
    DECLARED_DEAD = "declared_dead"  # 死亡宣告
    EMIGRATED = "emigrated"  # 遷出國外
    REGISTRATION_CANCELLED = "cancelled"  # 撤銷戶籍
    MISSING = "missing"  # 失蹤 (the registration stays; a relative may apply, MGMT-3)
    INMATE = "inmate"  # 在監服刑 (applies through the prison, MGMT-3)

    @property
    def label_zh(self) -> str:
        return _STATUS_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _STATUS_LABELS[self][1]

    @property
    def is_registered(self) -> bool:
        """Still on the household register (a card can be issued; missing people and inmates included)."""
        return self in (PersonStatus.ACTIVE, PersonStatus.MISSING, PersonStatus.INMATE)


_STATUS_LABELS: dict[PersonStatus, tuple[str, str]] = {
    PersonStatus.ACTIVE: ("現住", "Active"),
    PersonStatus.DEAD: ("死亡", "Dead"),
    PersonStatus.DECLARED_DEAD: ("死亡宣告", "Declared dead"),
    PersonStatus.EMIGRATED: ("遷出國外", "Emigrated"),
    PersonStatus.REGISTRATION_CANCELLED: ("撤銷戶籍", "Registration cancelled"),
    PersonStatus.MISSING: ("失蹤", "Missing"),
    PersonStatus.INMATE: ("在監服刑", "Serving a sentence"),
}


class Relationship(StrEnum):
    """Relationship to the head of the household (稱謂)."""

    HEAD = "head"  # 戶長
    SPOUSE = "spouse"  # 配偶
    CHILD = "child"  # 子女
    PARENT = "parent"  # 父母
    OTHER = "other"  # 其他


class EventKind(StrEnum):
    """Kinds of registry events (the event log records them; the person rows hold the current data)."""

    MOVE = "move"  # 遷徙
    MARRIAGE = "marriage"  # 結婚
    DIVORCE = "divorce"  # 離婚
    DEATH = "death"  # 死亡 / 死亡宣告
    SPOUSE_DIED = "spouse_died"  # the survivor's side of a death: widowed
    EMIGRATION = "emigration"  # 遷出國外
    RETURN = "return"  # 遷入 (back from abroad)
    GUARDIANSHIP = "guardianship"  # 受監護宣告 / 撤銷
    NAME_CHANGE = "name_change"  # 改名 (a card-face change)
    STATUS_CHANGE = "status_change"  # missing, inmate, registration cancelled, back to active
