"""Read-only questions about cards: a card's status and its history (no personal data in the answers)."""

from __future__ import annotations

from dataclasses import dataclass

from neweid.server.cards.errors import CardNotFoundError
from neweid.server.cards.models import Card, CardEvent
from neweid.server.cards.serials import is_serial


def card_by_serial(serial: str) -> Card:
    card = (Card.objects.select_related("batch", "pickup_office").filter(serial=serial).first()
            if is_serial(serial) else None)
    if card is None:
        raise CardNotFoundError()
    return card


@dataclass(frozen=True)
class HistoryEntry:
    from_state: str
    to_state: str
    at: str
    actor: str
    reason: str
    batch_ref: str


def card_history(card: Card) -> list[HistoryEntry]:
    return [HistoryEntry(e.from_state, e.to_state, e.at.isoformat(), e.actor, e.reason, e.batch_ref)
            for e in CardEvent.objects.filter(card=card).order_by("at", "pk")]
