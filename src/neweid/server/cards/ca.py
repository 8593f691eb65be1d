"""The citizen CA (MOICA) as the management system sees it: issue a card's citizen certificates, and
suspend, resume or revoke them, for a whole set of cards in one call.

:class:`SimulatedCitizenCa` computes validity with the real rules of :mod:`neweid.pki.ca.validity` (5 years,
never past the card's renewal date), records every call and can be told to fail, as a real CA can. The CA
of ``neweid.pki.ca`` (issue 5) is wired in by naming a factory in the setting ``NEWEID_CITIZEN_CA``
(dotted path to a zero-argument callable returning a :class:`CitizenCa`).
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, cast

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from neweid.pki.ca.validity import CardValidity, first_period
from neweid.server.cards.errors import CitizenCaUnavailableError


class RevocationReason(StrEnum):
    """RFC 5280 CRLReason names used by the management system."""

    KEY_COMPROMISE = "keyCompromise"  # recall of a chip with a security flaw (MGMT-14)
    SUPERSEDED = "superseded"  # the card was replaced or reissued
    CESSATION_OF_OPERATION = "cessationOfOperation"  # voided card, person no longer registered
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"  # guardianship (MGMT-5)


@dataclass(frozen=True)
class CardRef:
    """The card whose certificates are meant: its database ID and serial (no personal data)."""

    card_id: int
    serial: str


@dataclass(frozen=True)
class CertificateRequest:
    card: CardRef
    issue_date: datetime.date
    renewal_date: datetime.date | None


@dataclass(frozen=True)
class IssuedCertificate:
    card: CardRef
    not_before: datetime.datetime
    not_after: datetime.datetime


class CitizenCa(Protocol):
    def issue(self, requests: Sequence[CertificateRequest]) -> tuple[IssuedCertificate, ...]:
        """Certify the keys generated on the cards in production (CARD-10 validity)."""
        ...

    def suspend(self, cards: Sequence[CardRef]) -> None:
        """Put the cards' certificates on hold (loss report)."""

    def resume(self, cards: Sequence[CardRef]) -> None:
        """Release the hold (loss revoked)."""

    def revoke(self, cards: Sequence[CardRef], reason: RevocationReason) -> None:
        """Revoke for good; the CA publishes the serials by OCSP and in its next CRL."""


@dataclass
class SimulatedCitizenCa:
    """Keeps the certificate state per card serial in memory and every call in ``calls``.

    ``fail_next`` > 0 makes that many next calls raise :class:`CitizenCaUnavailableError`.
    """

    clock: Callable[[], datetime.datetime] = timezone.now
    calls: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)  # serial -> "active" / "suspended" / "revoked:..."
    fail_next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _enter(self, operation: str, serials: tuple[str, ...], reason: str = "") -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise CitizenCaUnavailableError()
        self.calls.append((operation, serials, reason))

    def issue(self, requests: Sequence[CertificateRequest]) -> tuple[IssuedCertificate, ...]:
        with self._lock:
            self._enter("issue", tuple(r.card.serial for r in requests))
            now = self.clock()
            issued = []
            for request in requests:
                period = first_period(CardValidity(request.issue_date, request.renewal_date), now=now)
                self.states[request.card.serial] = "active"
                issued.append(IssuedCertificate(request.card, period.not_before, period.not_after))
            return tuple(issued)

    def _set(self, operation: str, cards: Sequence[CardRef], state: str, reason: str = "") -> None:
        with self._lock:
            serials = tuple(card.serial for card in cards)
            self._enter(operation, serials, reason)
            for serial in serials:
                if self.states.get(serial, "active") in {"active", "suspended"}:
                    self.states[serial] = state

    def suspend(self, cards: Sequence[CardRef]) -> None:
        self._set("suspend", cards, "suspended")

    def resume(self, cards: Sequence[CardRef]) -> None:
        self._set("resume", cards, "active")

    def revoke(self, cards: Sequence[CardRef], reason: RevocationReason) -> None:
        self._set("revoke", cards, f"revoked:{reason.value}", reason.value)

    def state_of(self, serial: str) -> str:
        return self.states.get(serial, "active")


_simulated = SimulatedCitizenCa()


def get_citizen_ca() -> CitizenCa:
    """The configured CA (``NEWEID_CITIZEN_CA``), else the process-wide simulated one."""
    factory_path = getattr(settings, "NEWEID_CITIZEN_CA", "")
    if factory_path:
        factory = cast(Callable[[], CitizenCa], import_string(factory_path))
        return factory()
    return _simulated
