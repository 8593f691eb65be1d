"""Batching (MGMT-6) and the production exchange (MGMT-1): capacity, re-productions first, the latest
household data at batch time, serials, the status replies, the transfer area purged, failures."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Application, Status
from neweid.server.audit.models import AuditEntry
from neweid.server.cards.batching import (
    batch_file,
    do_apply_production_status,
    do_create_batches,
    do_send_batch,
)
from neweid.server.cards.carddata import card_digests
from neweid.server.cards.errors import BadCapacityError, CitizenCaUnavailableError, ProductionUnavailableError
from neweid.server.cards.models import BatchStatus, Card, CardEvent, ProductionBatch, TransferRecord
from neweid.server.cards.office import mark_defective
from neweid.server.cards.serials import SERIAL_PATTERN, draw_serials
from neweid.server.cards.states import CardState, CertificateState, DefectSource
from neweid.server.cards.transitions import transition
from neweid.server.errors import AccessDeniedError
from neweid.server.registry.interface import Emigration, NameChange
from neweid.server.registry.simulated import SimulatedRegistry
from tests.server.conftest import StaffAccount
from tests.server.test_cards_support import (
    NOW,
    TODAY,
    World,
    card_of,
    make_application,
    make_person,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["world"]


def test_capacity_and_order_of_verification(world: World, office: Office) -> None:
    applications = [make_application(make_person(), office, verified_at=NOW - timedelta(minutes=i))
                    for i in range(7)]
    batches = do_create_batches(TODAY, registry=world.registry, capacity=5, batch_size=2)
    assert [b.size for b in batches] == [2, 2, 1] and [b.sequence for b in batches] == [1, 2, 3]
    assert batches[0].reference == "B20261001-001"
    batched = set(Card.objects.values_list("application_id", flat=True))
    oldest_five = {a.pk for a in applications[2:]}  # verified earliest
    assert batched == oldest_five
    assert set(Application.objects.filter(pk__in=oldest_five).values_list("status", flat=True)) == {"batched"}
    assert Application.objects.filter(status=Status.VERIFIED).count() == 2
    # The day's capacity counts what is already batched that day.
    assert do_create_batches(TODAY, registry=world.registry, capacity=5) == []
    later = do_create_batches(TODAY + timedelta(days=1), registry=world.registry, capacity=5)
    assert sum(b.size for b in later) == 2


def test_default_capacity_is_the_setting(world: World, office: Office, settings: object) -> None:
    settings.NEWEID_DAILY_CAPACITY = 3  # type: ignore[attr-defined]
    for _ in range(4):
        make_application(make_person(), office)
    assert sum(b.size for b in do_create_batches(TODAY, registry=world.registry)) == 3


def test_only_verified_applications_are_batched(world: World, office: Office) -> None:
    make_application(make_person(), office, status=Status.SUBMITTED)
    assert do_create_batches(TODAY, registry=world.registry) == []


def test_bad_capacity_is_refused(world: World) -> None:
    with pytest.raises(BadCapacityError) as caught:
        do_create_batches(TODAY, registry=world.registry, capacity=0)
    assert caught.value.code == "C201"


def test_reproductions_go_first(world: World, office: Office) -> None:
    first = make_application(make_person(), office)
    world.produce()
    card = card_of(first)
    transition([card.pk], CardState.RECEIVED, actor="S1")
    mark_defective([card.pk], {card.pk: "chip does not answer"}, source=DefectSource.QC, actor="S1")
    waiting = [make_application(make_person(), office) for _ in range(3)]
    batches = do_create_batches(TODAY + timedelta(days=1), registry=world.registry, capacity=2)
    new_cards = list(Card.objects.filter(batch__in=batches).order_by("pk"))
    assert len(new_cards) == 2
    remade = [c for c in new_cards if c.reproduction_of_id == card.pk]
    assert len(remade) == 1 and remade[0].application_id == first.pk and remade[0].serial != card.serial
    assert batches[0].reproductions == 1
    assert sum(1 for a in waiting if Card.objects.filter(application=a).exists()) == 1
    # A defective card is re-produced once only.
    do_create_batches(TODAY + timedelta(days=2), registry=world.registry, capacity=10)
    assert Card.objects.filter(reproduction_of=card).count() == 1


def test_latest_household_data_at_batch_time(world: World, office: Office) -> None:
    person = make_person()
    application = make_application(person, office)
    world.registry.apply(NameChange(person.id_number, TODAY, "林", "美玲", "LIN, MEI-LING"))
    world.clock.advance(hours=1)
    world.produce()
    card = card_of(application)
    assert card.data_as_of == world.clock()
    record = world.registry.person(person.id_number)
    assert card.face_digest == card_digests(record).face and card.chip_digest == card_digests(record).chip


def test_people_gone_from_the_register_are_not_produced(world: World, office: Office) -> None:
    gone = make_person()
    stays = make_person()
    cancelled = make_application(gone, office)
    kept = make_application(stays, office)
    world.registry.apply(Emigration(gone.id_number, TODAY))
    batches = do_create_batches(TODAY, registry=world.registry)
    assert list(Card.objects.values_list("application_id", flat=True)) == [kept.pk]
    cancelled.refresh_from_db()
    assert cancelled.status == Status.CANCELLED
    entry = AuditEntry.objects.filter(function="cards.create_batches").last()
    assert entry is not None and entry.extra["cancelled_not_registered"] == 1 and len(batches) == 1


def test_registry_outage_changes_nothing(world: World, office: Office) -> None:
    make_application(make_person(), office)
    world.registry.faults.fail_next(1)
    with pytest.raises(Exception) as caught:
        do_create_batches(TODAY, registry=world.registry)
    assert getattr(caught.value, "code", None) == "E503"
    assert Card.objects.count() == 0 and ProductionBatch.objects.count() == 0
    assert Application.objects.get().status == Status.VERIFIED


def test_certificate_state_from_the_option_and_guardianship(world: World, office: Office) -> None:
    opted = make_application(make_person(), office)
    declined = make_application(make_person(), office, opt_in=False)
    guarded = make_application(make_person(under_guardianship=True), office)
    world.produce()
    assert card_of(opted).certificate_state == CertificateState.ACTIVE
    assert card_of(declined).certificate_state == CertificateState.NOT_REQUESTED
    assert card_of(guarded).certificate_state == CertificateState.NOT_ALLOWED
    assert [call[0] for call in world.ca.calls] == ["issue"] and len(world.ca.calls[0][1]) == 1


def test_card_validity_per_card10(world: World, office: Office) -> None:
    child = make_application(make_person(birth=date(2016, 1, 1)), office)
    adult = make_application(make_person(birth=date(1990, 1, 1)), office)
    senior = make_application(make_person(birth=date(1950, 1, 1)), office)
    world.produce()
    applied = (NOW - timedelta(hours=1)).date()
    assert card_of(child).renewal_date == applied.replace(year=applied.year + 5)
    assert card_of(adult).renewal_date == applied.replace(year=applied.year + 10)
    assert card_of(senior).renewal_date is None
    for card in (card_of(child), card_of(adult), card_of(senior)):
        assert card.certificate_not_before is not None and card.certificate_not_after is not None
        assert card.certificate_not_after.date() <= TODAY.replace(year=TODAY.year + 5)
        if card.renewal_date is not None:
            assert card.certificate_not_after.date() < card.renewal_date
        assert card.certificate_reissues == 0


def test_serials_are_well_formed_and_unique(world: World, office: Office) -> None:
    for _ in range(20):
        make_application(make_person(), office)
    do_create_batches(TODAY, registry=world.registry, rng=random.Random(3).randbytes)
    serials = list(Card.objects.values_list("serial", flat=True))
    assert len(set(serials)) == 20 and all(SERIAL_PATTERN.match(s) for s in serials)
    # Serials already taken are never drawn again (same generator, same draws).
    again = draw_serials(20, random.Random(3).randbytes)
    assert not set(again) & set(serials)


def test_the_production_file_and_its_digest(world: World, office: Office) -> None:
    person = make_person()
    make_application(person, office)
    (batch,) = do_create_batches(TODAY, registry=world.registry)
    file = batch_file(batch)
    (record,) = file.records
    assert record.data["id_number"] == person.id_number and record.data["surname"] == "陳"
    assert record.pickup_office == office.code and not record.reproduction
    assert person.id_number not in repr(file) and person.id_number not in repr(record)
    assert re.fullmatch(r"[0-9a-f]{64}", file.digest)
    sent = do_send_batch(batch.pk, centre=world.centre)
    assert sent.status == BatchStatus.SENT and sent.file_digest == file.digest
    assert Card.objects.get().state == CardState.IN_PRODUCTION


def test_status_replies_and_the_transfer_area_purge(world: World, office: Office) -> None:
    for _ in range(10):
        make_application(make_person(), office)
    centre = world.centre
    centre.defect_rate = 0.3
    (batch,) = do_create_batches(TODAY, registry=world.registry)
    do_send_batch(batch.pk, centre=centre)
    assert TransferRecord.objects.filter(batch=batch).count() == 10
    first = do_apply_production_status(batch.pk, centre=centre, ca=world.ca)
    assert first.produced + first.defective == 10 and first.defective > 0 and not first.completed
    assert TransferRecord.objects.filter(batch=batch).count() == 10  # replies not all in yet
    second = do_apply_production_status(batch.pk, centre=centre, ca=world.ca)
    assert second.shipped == first.produced and second.completed
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED and batch.transfer_purged_at is not None
    assert TransferRecord.objects.filter(batch=batch).count() == 0  # personal data deleted (MGMT-1)
    assert Card.objects.filter(state=CardState.SHIPPED, shipment=f"{batch.reference}-{office.code}").count() \
        == first.produced
    defective = Card.objects.filter(state=CardState.DEFECTIVE)
    assert set(defective.values_list("defect_source", flat=True)) == {DefectSource.PRODUCTION}
    # Defective cards are re-produced first the next day.
    next_day = do_create_batches(TODAY + timedelta(days=1), registry=world.registry)
    assert next_day[0].reproductions == first.defective


def test_a_lost_status_reply_is_asked_for_again(world: World, office: Office) -> None:
    make_application(make_person(), office)
    (batch,) = do_create_batches(TODAY, registry=world.registry)
    do_send_batch(batch.pk, centre=world.centre)
    world.ca.fail_next = 1
    with pytest.raises(CitizenCaUnavailableError):
        do_apply_production_status(batch.pk, centre=world.centre, ca=world.ca)
    assert Card.objects.get().state == CardState.IN_PRODUCTION  # rolled back
    summary = do_apply_production_status(batch.pk, centre=world.centre, ca=world.ca)  # asked again
    assert summary.produced == 1 and summary.shipped == 1 and summary.completed
    assert Card.objects.get().state == CardState.SHIPPED
    assert list(CardEvent.objects.values_list("to_state", flat=True).order_by("id")) == [
        "ordered", "in_production", "produced", "shipped"]


def test_production_centre_outage_changes_nothing(world: World, office: Office) -> None:
    make_application(make_person(), office)
    (batch,) = do_create_batches(TODAY, registry=world.registry)
    world.centre.faults.fail_next(1)
    with pytest.raises(ProductionUnavailableError) as caught:
        do_send_batch(batch.pk, centre=world.centre)
    assert caught.value.code == "C701"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CREATED and Card.objects.get().state == CardState.ORDERED
    failure = AuditEntry.objects.filter(function="cards.send_batch").last()
    assert failure is not None and failure.result == "failure" and failure.error_code == "C701"
    do_send_batch(batch.pk, centre=world.centre)
    assert Card.objects.get().state == CardState.IN_PRODUCTION


def test_one_audit_entry_per_batch_operation(world: World, office: Office) -> None:
    for _ in range(5):
        make_application(make_person(), office)
    before = AuditEntry.objects.count()
    world.produce()
    functions = list(AuditEntry.objects.filter(seq__gt=before).values_list("function", flat=True))
    assert functions == ["cards.create_batches", "cards.send_batch", "cards.production_status",
                         "cards.production_status"]
    assert CardEvent.objects.count() == 5 * 4


def test_staff_need_the_capability_to_batch(world: World, make_staff: object) -> None:
    clerk: StaffAccount = make_staff(Role.OFFICE_CLERK)  # type: ignore[operator]
    with pytest.raises(AccessDeniedError):
        do_create_batches(TODAY, registry=world.registry, acting_user=clerk.user)
    admin: StaffAccount = make_staff(Role.MOI_ADMIN)  # type: ignore[operator]
    assert do_create_batches(TODAY, registry=world.registry, acting_user=admin.user) == []


def _count(n: int, world: World, office: Office) -> dict[str, int]:
    for _ in range(n):
        make_application(make_person(), office)
    counts = {}
    with CaptureQueriesContext(connection) as queries:
        (batch,) = do_create_batches(TODAY, registry=world.registry)
    counts["batch"] = len(queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        do_send_batch(batch.pk, centre=world.centre)
    counts["send"] = len(queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        do_apply_production_status(batch.pk, centre=world.centre, ca=world.ca)
        do_apply_production_status(batch.pk, centre=world.centre, ca=world.ca)
    counts["status"] = len(queries.captured_queries)
    return counts


def test_batch_paths_take_a_bounded_number_of_queries(world: World, office: Office) -> None:
    small = _count(5, world, office)
    other = World(world.clock, SimulatedRegistry(clock=world.clock), type(world.centre)(seed=2), world.ca,
                  world.notifier)
    large = _count(60, other, office)
    # The same number of queries for 5 or 60 cards, give or take the INSERTs SQLite splits (its limit of
    # 999 bound parameters per statement); never one query per card.
    assert all(0 <= large[k] - small[k] <= 2 for k in small), (small, large)
    if connection.vendor == "postgresql":
        assert large == small
