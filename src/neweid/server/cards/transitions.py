"""Moving cards between states, set-based: one read (locking the rows), one UPDATE per chunk of cards and
one bulk insert of their history, whatever the number of cards.

:func:`transition` is the building block of the ``do_*`` actions (which give it its transaction and its
single audit entry); it refuses the whole set if one card may not make the move, naming the from and to
states, and changes nothing.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from neweid.server.cards.errors import CardNotFoundError, ConcurrentChangeError, IllegalTransition
from neweid.server.cards.models import Card, CardEvent
from neweid.server.cards.states import ALLOWED_FROM, CardState

#: Cards per UPDATE statement (well under every database's limit of bound parameters).
CHUNK = 10_000
#: Rows per INSERT of card events.
INSERT_BATCH = 2_000

SYSTEM_ACTOR = "system"

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _current_states(cards: QuerySet[Card] | Iterable[int]) -> list[tuple[int, str]]:
    if isinstance(cards, QuerySet):
        return list(cards.order_by().select_for_update().values_list("pk", "state"))
    ids = list(dict.fromkeys(int(pk) for pk in cards))
    rows: list[tuple[int, str]] = []
    for chunk in chunks(ids):
        rows.extend(Card.objects.filter(pk__in=chunk).order_by().select_for_update()
                    .values_list("pk", "state"))
    if len(rows) != len(ids):
        raise CardNotFoundError()
    return rows


def check_transition(states: Iterable[str], to_state: CardState) -> None:
    """Raise :class:`IllegalTransition` (naming the first offending state) unless every state may move."""
    allowed = ALLOWED_FROM[to_state]
    illegal = Counter(state for state in states if CardState(state) not in allowed)
    if illegal:
        from_state = sorted(illegal)[0]
        raise IllegalTransition(from_state, to_state.value, illegal[from_state])


def transition(cards: QuerySet[Card] | Iterable[int], to_state: CardState | str, *, actor: str,
               reason: str = "", batch_ref: str = "", now: datetime.datetime | None = None,
               updates: Mapping[str, Any] | None = None) -> list[int]:
    """Move ``cards`` (a queryset or card IDs) to ``to_state``; returns the IDs of the cards moved.

    ``updates`` are further field values set in the same UPDATE (e.g. the void reason). Every card gets a
    :class:`CardEvent` with ``actor``, ``reason`` and ``batch_ref``. Raises :class:`IllegalTransition` if
    any card may not make the move, :class:`CardNotFoundError` for unknown IDs, and
    :class:`ConcurrentChangeError` if a card changed under us; in each case nothing changes.
    """
    target = CardState(to_state)
    moment = now if now is not None else timezone.now()
    with transaction.atomic():
        rows = _current_states(cards)
        check_transition((state for _, state in rows), target)
        ids = [pk for pk, _ in rows]
        sources = [s.value for s in ALLOWED_FROM[target]]
        values: dict[str, Any] = {"state": target.value, "state_changed_at": moment, **(updates or {})}
        moved = 0
        for chunk in chunks(ids):
            moved += Card.objects.filter(pk__in=chunk, state__in=sources).update(**values)
        if moved != len(ids):
            raise ConcurrentChangeError()
        CardEvent.objects.bulk_create(
            (CardEvent(card_id=pk, from_state=state, to_state=target.value, at=moment, actor=actor,
                       reason=reason[:200], batch_ref=batch_ref) for pk, state in rows),
            batch_size=INSERT_BATCH)
    return ids


def record_creation(cards: Sequence[Card], *, actor: str, now: datetime.datetime, reason: str = "",
                    batch_ref: str = "") -> None:
    """The first event of newly created cards ("" → their initial state)."""
    CardEvent.objects.bulk_create(
        (CardEvent(card_id=card.pk, from_state="", to_state=card.state, at=now, actor=actor, reason=reason,
                   batch_ref=batch_ref) for card in cards),
        batch_size=INSERT_BATCH)
