"""The card state machine: every allowed transition works, every other one is refused naming its states,
and transition() is set-based, all-or-nothing and writes the history."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from neweid.server.accounts.models import Office
from neweid.server.cards.errors import CardNotFoundError, IllegalTransition
from neweid.server.cards.models import Card, CardEvent
from neweid.server.cards.states import ALLOWED_FROM, CardState, allowed_targets, is_allowed
from neweid.server.cards.transitions import transition
from tests.server.test_cards_support import NOW, TODAY, World, card_of, make_application, make_person, world

pytestmark = pytest.mark.django_db
__all__ = ["world"]

S = CardState
ALL_PAIRS = list(itertools.product(CardState, CardState))


def test_the_lifecycle_of_the_issue_is_allowed() -> None:
    path = [S.ORDERED, S.IN_PRODUCTION, S.PRODUCED, S.SHIPPED, S.RECEIVED, S.QC_PASSED, S.NOTIFIED, S.ISSUED,
            S.LOST, S.ISSUED, S.REPLACED, S.DESTROYED]
    for from_state, to_state in itertools.pairwise(path):
        assert is_allowed(from_state, to_state), (from_state, to_state)
    assert is_allowed(S.LOST, S.REISSUED) and is_allowed(S.REISSUED, S.DESTROYED)
    for state in (S.IN_PRODUCTION, S.PRODUCED, S.RECEIVED, S.QC_PASSED, S.NOTIFIED):
        assert is_allowed(state, S.DEFECTIVE)
    for state in (S.RECEIVED, S.QC_PASSED, S.NOTIFIED, S.ISSUED):
        assert is_allowed(state, S.VOIDED)


def test_no_way_back_and_destroyed_is_final() -> None:
    assert allowed_targets(S.DESTROYED) == frozenset()
    assert ALLOWED_FROM[S.ORDERED] == frozenset()
    assert not is_allowed(S.ISSUED, S.NOTIFIED)
    assert not is_allowed(S.SHIPPED, S.ISSUED)  # no issuing a card nobody checked
    assert not is_allowed(S.REPLACED, S.ISSUED)
    assert not is_allowed(S.VOIDED, S.ISSUED)
    assert allowed_targets(S.DEFECTIVE) == {S.DESTROYED}


@pytest.fixture
def one_card(world: World, office: Office) -> Card:
    make_application(make_person(), office)
    world.produce()
    return Card.objects.get()


@pytest.mark.parametrize(("from_state", "to_state"), [p for p in ALL_PAIRS if not is_allowed(*p)])
def test_every_illegal_transition_is_refused_with_its_states(one_card: Card, from_state: CardState,
                                                             to_state: CardState) -> None:
    Card.objects.filter(pk=one_card.pk).update(state=from_state)
    events = CardEvent.objects.count()
    with pytest.raises(IllegalTransition) as caught:
        transition([one_card.pk], to_state, actor="S000000001")
    assert caught.value.from_state == from_state.value and caught.value.to_state == to_state.value
    assert caught.value.code == "C409" and caught.value.http_status == 409
    assert from_state.value in str(caught.value.message) and to_state.value in str(caught.value.message)
    one_card.refresh_from_db()
    assert one_card.state == from_state and CardEvent.objects.count() == events


@pytest.mark.parametrize(("from_state", "to_state"), [p for p in ALL_PAIRS if is_allowed(*p)])
def test_every_allowed_transition_moves_and_is_recorded(one_card: Card, from_state: CardState,
                                                        to_state: CardState) -> None:
    Card.objects.filter(pk=one_card.pk).update(state=from_state)
    assert transition([one_card.pk], to_state, actor="S000000001", reason="test", now=NOW) == [one_card.pk]
    one_card.refresh_from_db()
    assert one_card.state == to_state and one_card.state_changed_at == NOW
    last = CardEvent.objects.filter(card=one_card).order_by("-id").first()
    assert last is not None
    assert (last.from_state, last.to_state, last.actor, last.reason) == (from_state, to_state, "S000000001",
                                                                         "test")


def test_a_set_with_one_illegal_card_changes_nothing(world: World, office: Office) -> None:
    for _ in range(3):
        make_application(make_person(), office)
    world.produce()
    cards = list(Card.objects.order_by("pk"))
    Card.objects.filter(pk=cards[2].pk).update(state=S.ISSUED)
    with pytest.raises(IllegalTransition) as caught:
        transition([c.pk for c in cards], S.RECEIVED, actor="x")
    assert (caught.value.from_state, caught.value.to_state, caught.value.count) == ("issued", "received", 1)
    states = list(Card.objects.order_by("pk").values_list("state", flat=True))
    assert states == ["shipped", "shipped", "issued"]


def test_unknown_card_ids_are_refused(one_card: Card) -> None:
    with pytest.raises(CardNotFoundError):
        transition([one_card.pk, one_card.pk + 1000], S.RECEIVED, actor="x")
    one_card.refresh_from_db()
    assert one_card.state == S.SHIPPED


def test_transition_is_set_based(world: World, office: Office) -> None:
    for _ in range(30):
        make_application(make_person(), office)
    world.produce()
    with CaptureQueriesContext(connection) as queries:
        moved = transition(Card.objects.filter(state=S.SHIPPED), S.RECEIVED, actor="x", batch_ref="box-1")
    assert len(moved) == 30
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("UPDATE",
                                                                                                   "INSERT"))]
    assert len(writes) == 2  # one UPDATE, one INSERT of 30 events
    assert CardEvent.objects.filter(to_state=S.RECEIVED, batch_ref="box-1").count() == 30


def test_history_from_order_to_shipment(one_card: Card) -> None:
    steps = list(CardEvent.objects.filter(card=one_card).order_by("id").values_list("from_state", "to_state"))
    assert steps == [("", "ordered"), ("ordered", "in_production"), ("in_production", "produced"),
                     ("produced", "shipped")]
    assert one_card.issue_date == TODAY


def test_card_of_helper(world: World, office: Office) -> None:
    application = make_application(make_person(), office)
    world.produce()
    assert card_of(application).application_id == application.pk
