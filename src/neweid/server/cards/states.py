"""The card state machine: the states, why a card is void, the certificate's state, and the one table of
allowed transitions (MGMT-6..10, MGMT-12, the report's Ch.11 SOPs).

The life of a card::

    ORDERED ─► IN_PRODUCTION ─► PRODUCED ─► SHIPPED ─► RECEIVED ─► QC_PASSED ─► NOTIFIED ─► ISSUED
                    │               │                     │            │           │          │
                    └──► DEFECTIVE ◄┴─────────────────────┴────────────┴───────────┘          │
                             │   (punched and cut; re-produced free of charge, first in the next batch)
                             ▼                                                                ▼
                         DESTROYED ◄── VOIDED (emigrated, dead, declared dead, registration    LOST ─► ISSUED
                             ▲        cancelled, duplicate, recall, cancelled order...)        │  (revoked)
                             ├──────── REPLACED (old card cut and retained when a new one      ▼
                             │         is issued)                                            REISSUED
                             └──────── REISSUED (a lost card superseded by a reissue)     (void, not returned)

Defective cards go back to the production centre, which destroys them; voided and replaced cards are listed
and sent to the city/county government for central destruction (MGMT-12).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CardState(models.TextChoices):
    ORDERED = "ordered", _("Ordered")  # in a production batch, not yet sent
    IN_PRODUCTION = "in_production", _("In production")  # the batch file was sent to the centre
    PRODUCED = "produced", _("Produced")
    SHIPPED = "shipped", _("Shipped")  # on its way to the pickup office
    RECEIVED = "received", _("Received")  # counted in at the office (點收)
    QC_PASSED = "qc_passed", _("Quality check passed")  # 品管檢驗
    DEFECTIVE = "defective", _("Defective")  # face or chip flawed: punched, cut, re-produced
    VOIDED = "voided", _("Voided")  # not to be used: see VoidReason
    NOTIFIED = "notified", _("Citizen notified")  # 領證通知
    ISSUED = "issued", _("Issued")  # in the citizen's hands, in use
    LOST = "lost", _("Reported lost")  # card, certificate and chip data lists suspended
    REISSUED = "reissued", _("Superseded by a reissue")  # a lost card after a reissue: void for good
    REPLACED = "replaced", _("Replaced")  # cut and retained when the new card was issued
    DESTROYED = "destroyed", _("Destroyed")


class VoidReason(models.TextChoices):
    EMIGRATED = "emigrated", _("Emigrated")
    DEAD = "dead", _("Dead")
    DECLARED_DEAD = "declared_dead", _("Declared dead")
    REGISTRATION_CANCELLED = "registration_cancelled", _("Registration cancelled")
    DUPLICATE = "duplicate", _("Duplicate of a routine issuance")
    NOT_COLLECTED = "not_collected", _("Not collected")
    RECALLED = "recalled", _("Recalled")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled before production")
    OTHER = "other", _("Other")


class DefectSource(models.TextChoices):
    PRODUCTION = "production", _("Found by the production centre")
    QC = "qc", _("Found at the office's quality check")
    ISSUANCE = "issuance", _("Found at issuance")


class CertificateState(models.TextChoices):
    NOT_REQUESTED = "not_requested", _("Not requested")  # the citizen opted out (MGMT-5)
    NOT_ALLOWED = "not_allowed", _("Not allowed (guardianship)")  # 受監護宣告: no certificate
    PENDING = "pending", _("To be issued in production")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")  # the card is reported lost
    REVOKED = "revoked", _("Revoked")


S = CardState

#: to_state -> the states a card may be in to move there. The only place the rules are written down.
ALLOWED_FROM: dict[CardState, frozenset[CardState]] = {
    S.IN_PRODUCTION: frozenset({S.ORDERED}),
    S.PRODUCED: frozenset({S.IN_PRODUCTION}),
    S.SHIPPED: frozenset({S.PRODUCED}),
    S.RECEIVED: frozenset({S.SHIPPED}),
    S.QC_PASSED: frozenset({S.RECEIVED}),
    S.DEFECTIVE: frozenset({S.IN_PRODUCTION, S.PRODUCED, S.RECEIVED, S.QC_PASSED, S.NOTIFIED}),
    S.VOIDED: frozenset({S.ORDERED, S.RECEIVED, S.QC_PASSED, S.NOTIFIED, S.ISSUED}),
    S.NOTIFIED: frozenset({S.QC_PASSED}),
    S.ISSUED: frozenset({S.NOTIFIED, S.LOST}),  # from LOST: the loss is revoked (found again)
    S.LOST: frozenset({S.ISSUED}),
    S.REISSUED: frozenset({S.LOST}),
    S.REPLACED: frozenset({S.ISSUED}),
    S.DESTROYED: frozenset({S.DEFECTIVE, S.VOIDED, S.REPLACED, S.REISSUED}),
}
ALLOWED_FROM[S.ORDERED] = frozenset()  # cards are created ORDERED, never moved back there

#: States in which the card exists (or will exist) for the citizen: a new order for the same person
#: makes an older one of these a duplicate.
LIVE_STATES = frozenset({S.ORDERED, S.IN_PRODUCTION, S.PRODUCED, S.SHIPPED, S.RECEIVED, S.QC_PASSED,
                         S.NOTIFIED, S.ISSUED, S.LOST})
#: States that end the card's life (only destruction may follow).
VOID_STATES = frozenset({S.DEFECTIVE, S.VOIDED, S.REPLACED, S.REISSUED, S.DESTROYED})


def is_allowed(from_state: CardState | str, to_state: CardState | str) -> bool:
    """Whether the state machine allows ``from_state`` → ``to_state``."""
    return CardState(from_state) in ALLOWED_FROM[CardState(to_state)]


def allowed_targets(from_state: CardState | str) -> frozenset[CardState]:
    """Where a card in ``from_state`` may go next."""
    state = CardState(from_state)
    return frozenset(to for to, sources in ALLOWED_FROM.items() if state in sources)
