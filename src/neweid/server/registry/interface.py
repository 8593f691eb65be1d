"""The narrow interface through which the management system uses the household registration system.

Lookups return frozen snapshots (never models) stamped with the time they were read (``as_of``): the
"latest household data" the management system takes at application and at batch time (MGMT-6). Changes
are frozen values passed to :meth:`HouseholdRegistry.apply`. A real registry can be unavailable: every
call may raise :class:`~neweid.server.registry.errors.RegistryUnavailableError`; unknown ID numbers raise
:class:`~neweid.server.registry.errors.PersonNotFoundError`; changes the register refuses raise
:class:`~neweid.server.registry.errors.InvalidChangeError` (malformed) or
:class:`~neweid.server.registry.errors.ChangeConflictError` (impossible in the current state).

Snapshots hold personal data: their ``repr`` shows none of it, so that they can be logged by accident
without harm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar, Protocol

from neweid.formats.sex import Sex
from neweid.formats.zones import Birthplace, HouseholdRegion, MaritalStatus, MilitaryStatus
from neweid.server.registry.values import EventKind, PersonStatus, Relationship


@dataclass(frozen=True, repr=False)
class HouseholdRecord:
    household_number: str
    region: HouseholdRegion  # county / township / village names and codes, 鄰
    address: str

    def __repr__(self) -> str:
        return "HouseholdRecord(...)"


@dataclass(frozen=True, repr=False)
class PersonRecord:
    """A person as registered when read (``as_of``)."""

    id_number: str
    surname: str
    given_name: str
    romanised_name: str
    foreign_name: str | None
    naturalised: bool
    sex: Sex
    birth_date: date
    birthplace: Birthplace
    marital_status: MaritalStatus
    military_status: MilitaryStatus
    father_name: str | None
    father_id_number: str | None  # when the father is on the register
    mother_name: str | None
    mother_id_number: str | None
    spouse_name: str | None
    spouse_id_number: str | None
    under_guardianship: bool
    status: PersonStatus
    status_date: date | None
    household: HouseholdRecord
    relationship: Relationship
    email: str | None
    phone: str | None
    as_of: datetime

    @property
    def chinese_name(self) -> str:
        return self.surname + self.given_name

    def __repr__(self) -> str:
        return f"PersonRecord(status={self.status.value}, as_of={self.as_of.isoformat()})"


@dataclass(frozen=True, repr=False)
class EventRecord:
    """A change as the register recorded it."""

    event_id: int
    kind: EventKind
    id_number: str
    effective_date: date
    recorded_at: datetime
    payload: Mapping[str, object] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"EventRecord({self.kind.value}, id={self.event_id})"


# -- changes --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewHousehold:
    """A household to create when someone moves out on their own (their relationship becomes head)."""

    village_code: str  # an existing 11-digit village code
    neighbourhood: int
    address: str


@dataclass(frozen=True, repr=False)
class _Change:
    id_number: str
    effective_date: date

    KIND: ClassVar[EventKind]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(effective_date={self.effective_date.isoformat()})"


@dataclass(frozen=True, repr=False)
class Move(_Change):
    """Move (遷徙) into an existing household (by number) or into a new one."""

    to_household: str | NewHousehold
    relationship: Relationship = Relationship.OTHER

    KIND: ClassVar[EventKind] = EventKind.MOVE


@dataclass(frozen=True, repr=False)
class Marriage(_Change):
    spouse_id_number: str

    KIND: ClassVar[EventKind] = EventKind.MARRIAGE


@dataclass(frozen=True, repr=False)
class Divorce(_Change):
    KIND: ClassVar[EventKind] = EventKind.DIVORCE


@dataclass(frozen=True, repr=False)
class Death(_Change):
    """Death, or with ``declared`` a court's declaration of death (死亡宣告)."""

    declared: bool = False

    KIND: ClassVar[EventKind] = EventKind.DEATH


@dataclass(frozen=True, repr=False)
class Emigration(_Change):
    KIND: ClassVar[EventKind] = EventKind.EMIGRATION


@dataclass(frozen=True, repr=False)
class Return(_Change):
    """Registration restored after emigration, optionally into another household."""

    to_household: str | NewHousehold | None = None

    KIND: ClassVar[EventKind] = EventKind.RETURN


@dataclass(frozen=True, repr=False)
class Guardianship(_Change):
    """受監護宣告 declared (``declared=True``) or revoked."""

    declared: bool = True

    KIND: ClassVar[EventKind] = EventKind.GUARDIANSHIP


@dataclass(frozen=True, repr=False)
class NameChange(_Change):
    surname: str
    given_name: str
    romanised_name: str

    KIND: ClassVar[EventKind] = EventKind.NAME_CHANGE


@dataclass(frozen=True, repr=False)
class StatusChange(_Change):
    """To missing, inmate or registration cancelled, or back to active from missing or inmate."""

    status: PersonStatus

    KIND: ClassVar[EventKind] = EventKind.STATUS_CHANGE


Change = Move | Marriage | Divorce | Death | Emigration | Return | Guardianship | NameChange | StatusChange


class HouseholdRegistry(Protocol):
    """What the management system asks of the household registration system."""

    def person(self, id_number: str) -> PersonRecord:
        """The person's latest registered data; :class:`PersonNotFoundError` if not on the register."""
        ...

    def people(self, id_numbers: Iterable[str]) -> dict[str, PersonRecord]:
        """Latest data of many people at once (batch time); unknown ID numbers are left out."""
        ...

    def household(self, household_number: str) -> HouseholdRecord:
        ...

    def members(self, household_number: str) -> tuple[PersonRecord, ...]:
        """Everyone registered in the household (any status), head first."""
        ...

    def changed_since(self, since: datetime) -> tuple[str, ...]:
        """ID numbers of the people whose registration changed after ``since`` (oldest change first)."""
        ...

    def events(self, id_number: str) -> tuple[EventRecord, ...]:
        """The person's recorded changes, oldest first."""
        ...

    def apply(self, change: Change) -> EventRecord:
        """Record a change atomically; returns the event of the person the change names."""
        ...
