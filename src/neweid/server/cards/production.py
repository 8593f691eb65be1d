"""The production centre (製卡中心) as the management system sees it: a batch file goes out, status replies
come back (MGMT-1, MGMT-6).

:class:`SimulatedProductionCentre` behaves like the real one, failures included: each poll moves a batch one
step and reports every card's latest status (first each card is produced or found defective, with a
configurable defect rate; then the produced cards are shipped, one shipment per pickup office);
:class:`ProductionFaults` can take it down. It keeps no
personal data: only serials and pickup offices, as the real centre must once production is over.
"""

from __future__ import annotations

import datetime
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, cast

from django.conf import settings
from django.utils.module_loading import import_string

from neweid.server.cards.errors import BatchStateError, ProductionUnavailableError


@dataclass(frozen=True, repr=False)
class ProductionFileRecord:
    """One card to make: serial, where it goes, and the personal data to print and personalise."""

    serial: str
    pickup_office: str
    reproduction: bool
    data: Mapping[str, object]

    def __repr__(self) -> str:
        return f"ProductionFileRecord({self.serial})"


@dataclass(frozen=True, repr=False)
class BatchFile:
    reference: str
    production_date: datetime.date
    records: tuple[ProductionFileRecord, ...]
    digest: str  # SHA-256 of the canonical file content, kept with the batch

    def __repr__(self) -> str:
        return f"BatchFile({self.reference}, {len(self.records)} records)"


class ProductionOutcome(StrEnum):
    PRODUCED = "produced"
    DEFECTIVE = "defective"
    SHIPPED = "shipped"


@dataclass(frozen=True)
class CardStatus:
    serial: str
    outcome: ProductionOutcome
    shipment: str = ""  # shipment (box list) reference, for shipped cards


class ProductionCentre(Protocol):
    def send_batch(self, batch: BatchFile) -> None:
        """Deliver the batch file (idempotent for the same reference and digest)."""

    def poll_status(self, reference: str) -> tuple[CardStatus, ...]:
        """The latest status of every card of the batch the centre has news of (idempotent: a reply
        lost in transit is simply asked for again)."""
        ...


class ProductionFaults:
    """Failure injection: an outage switch and a number of calls still to fail (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down = False
        self._fail_next = 0

    def fail_next(self, calls: int = 1) -> None:
        with self._lock:
            self._fail_next = max(0, calls)

    def check(self) -> None:
        with self._lock:
            if self.down:
                raise ProductionUnavailableError()
            if self._fail_next > 0:
                self._fail_next -= 1
                raise ProductionUnavailableError()


@dataclass
class _Batch:
    digest: str
    offices: dict[str, str]  # serial -> pickup office
    outcomes: dict[str, ProductionOutcome] = field(default_factory=dict)
    step: int = 0


class SimulatedProductionCentre:
    """A production line that makes, checks and ships cards; ``defect_rate`` of them come out defective."""

    def __init__(self, *, defect_rate: float = 0.0, seed: int = 0,
                 clock: Callable[[], datetime.datetime] | None = None) -> None:
        if not 0.0 <= defect_rate <= 1.0:
            raise ValueError("the defect rate is a fraction from 0 to 1")
        self.defect_rate = defect_rate
        self._random = random.Random(seed)  # noqa: S311 (a simulation, not a secret)
        self._batches: dict[str, _Batch] = {}
        self._lock = threading.Lock()
        self.faults = ProductionFaults()

    def send_batch(self, batch: BatchFile) -> None:
        self.faults.check()
        with self._lock:
            known = self._batches.get(batch.reference)
            if known is not None:
                if known.digest != batch.digest:
                    raise BatchStateError()
                return
            # Personal data is used for printing and personalisation, and not kept.
            self._batches[batch.reference] = _Batch(batch.digest,
                                                    {r.serial: r.pickup_office for r in batch.records})

    def poll_status(self, reference: str) -> tuple[CardStatus, ...]:
        self.faults.check()
        with self._lock:
            batch = self._batches.get(reference)
            if batch is None:
                raise BatchStateError()
            if batch.step == 0:
                for serial in batch.offices:
                    batch.outcomes[serial] = (ProductionOutcome.DEFECTIVE
                                              if self._random.random() < self.defect_rate
                                              else ProductionOutcome.PRODUCED)
            elif batch.step == 1:
                for serial, outcome in batch.outcomes.items():
                    if outcome is ProductionOutcome.PRODUCED:
                        batch.outcomes[serial] = ProductionOutcome.SHIPPED
            batch.step = min(batch.step + 1, 2)
            return tuple(CardStatus(serial, outcome, f"{reference}-{batch.offices[serial]}"
                                    if outcome is ProductionOutcome.SHIPPED else "")
                         for serial, outcome in batch.outcomes.items())

    def knows(self, reference: str) -> bool:
        with self._lock:
            return reference in self._batches


_simulated = SimulatedProductionCentre()


def get_production_centre() -> ProductionCentre:
    """The configured centre (``NEWEID_PRODUCTION_CENTRE``), else the process-wide simulated one."""
    factory_path = getattr(settings, "NEWEID_PRODUCTION_CENTRE", "")
    if factory_path:
        factory = cast(Callable[[], ProductionCentre], import_string(factory_path))
        return factory()
    return _simulated
