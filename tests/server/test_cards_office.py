"""Receiving, quality control and notification at the office (MGMT-7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Kind
from neweid.server.audit.models import AuditEntry
from neweid.server.cards.errors import DefectNoteRequiredError, NotOnRosterError, WrongOfficeError
from neweid.server.cards.models import Card, Notification, NotificationChannel, NotificationStatus
from neweid.server.cards.office import do_notify_cards, do_quality_check, do_receive_cards, pickup_roster
from neweid.server.cards.states import CardState, CertificateState, DefectSource, VoidReason
from neweid.server.errors import AccessDeniedError
from neweid.server.registry.interface import Death, Emigration, Guardianship, StatusChange
from neweid.server.registry.values import PersonStatus
from tests.server.test_cards_support import (
    NOW,
    TODAY,
    World,
    card_of,
    clerk,
    make_application,
    make_person,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["clerk", "world"]


def _received(world: World, office: Office, clerk: Any, n: int = 1, **kwargs: Any) -> list[Card]:
    applications = [make_application(make_person(), office, **kwargs) for _ in range(n)]
    world.produce()
    do_receive_cards(office, acting_user=clerk, serials=[card_of(a).serial for a in applications])
    return [card_of(a) for a in applications]


def test_roster_and_receiving_a_shipment(world: World, office: Office, clerk: Any) -> None:
    for _ in range(4):
        make_application(make_person(), office)
    world.produce()
    roster = list(pickup_roster(office))
    assert len(roster) == 4 and [c.serial for c in roster] == sorted(c.serial for c in roster)
    shipment = roster[0].shipment
    assert do_receive_cards(office, acting_user=clerk, shipment=shipment) == 4
    assert set(Card.objects.values_list("state", flat=True)) == {CardState.RECEIVED}
    assert list(pickup_roster(office)) == []


def test_receiving_cards_of_another_office_is_refused(world: World, office: Office, other_office: Office,
                                                      clerk: Any) -> None:
    application = make_application(make_person(), other_office)
    world.produce()
    with pytest.raises(NotOnRosterError) as caught:
        do_receive_cards(office, acting_user=clerk, serials=[card_of(application).serial])
    assert caught.value.code == "C302"
    with pytest.raises(WrongOfficeError):  # the clerk works at ``office``
        do_receive_cards(other_office, acting_user=clerk, serials=[card_of(application).serial])
    assert card_of(application).state == CardState.SHIPPED


def test_receiving_needs_the_case_capability(world: World, office: Office,
                                             make_staff: Callable[..., Any]) -> None:
    auditor = make_staff(Role.AUDITOR, with_office=True).user
    with pytest.raises(AccessDeniedError):
        do_receive_cards(office, acting_user=auditor, serials=[])


def test_defective_cards_are_reproduced_and_not_notified(world: World, office: Office, clerk: Any,
                                                         django_capture_on_commit_callbacks: Any) -> None:
    bad, good = _received(world, office, clerk, 2, email="a@example.org")
    summary = do_quality_check(office, acting_user=clerk, registry=world.registry, ca=world.ca,
                               passed=[good.serial], defective={bad.serial: "photo smudged"})
    assert (summary.passed, summary.defective) == (1, 1)
    bad.refresh_from_db()
    assert bad.state == CardState.DEFECTIVE and bad.defect_source == DefectSource.QC
    assert bad.defect_note == "photo smudged"
    with django_capture_on_commit_callbacks(execute=True):
        do_notify_cards(office, acting_user=clerk, notifier=world.notifier)
    assert [n.serial for n in world.notifier.outbox] == [good.serial]  # the citizen of the bad one waits
    assert not Notification.objects.filter(card=bad).exists()


def test_a_defect_needs_a_note(world: World, office: Office, clerk: Any) -> None:
    (card,) = _received(world, office, clerk)
    with pytest.raises(DefectNoteRequiredError):
        do_quality_check(office, acting_user=clerk, registry=world.registry, ca=world.ca,
                         defective={card.serial: "  "})


@pytest.mark.parametrize(("change", "reason"), [
    (lambda n: Emigration(n, TODAY), VoidReason.EMIGRATED),
    (lambda n: Death(n, TODAY), VoidReason.DEAD),
    (lambda n: Death(n, TODAY, declared=True), VoidReason.DECLARED_DEAD),
    (lambda n: StatusChange(n, TODAY, PersonStatus.REGISTRATION_CANCELLED),
     VoidReason.REGISTRATION_CANCELLED),
])
def test_qc_voids_cards_of_people_gone_from_the_register(world: World, office: Office, clerk: Any,
                                                        change: Callable[[str], Any],
                                                        reason: VoidReason) -> None:
    gone, stays = _received(world, office, clerk, 2)
    world.registry.apply(change(gone.person.id_number))
    summary = do_quality_check(office, acting_user=clerk, registry=world.registry, ca=world.ca,
                               passed=[gone.serial, stays.serial])
    assert summary.voided == {reason.value: 1} and summary.passed == 1
    gone.refresh_from_db()
    assert gone.state == CardState.VOIDED and gone.void_reason == reason
    assert gone.certificate_state == CertificateState.REVOKED
    assert world.ca.state_of(gone.serial) == "revoked:cessationOfOperation"
    assert card_of(stays.application).state == CardState.QC_PASSED


def test_qc_voids_a_duplicate_of_a_routine_issuance(world: World, office: Office, clerk: Any) -> None:
    person = make_person()
    replacement = make_application(person, office, submitted_at=NOW - timedelta(days=3))
    world.produce()
    card = card_of(replacement)
    do_receive_cards(office, acting_user=clerk, serials=[card.serial])
    # Meanwhile the citizen lost the old card and a routine reissue was ordered.
    replacement.status = "completed"
    replacement.save(update_fields=["status"])
    routine = make_application(person, office, kind=Kind.REISSUE_LOSS, submitted_at=NOW - timedelta(days=1))
    world.clock.advance(days=1)
    world.produce(TODAY + timedelta(days=1))
    summary = do_quality_check(office, acting_user=clerk, registry=world.registry, ca=world.ca,
                               passed=[card.serial])
    assert summary.voided == {"duplicate": 1}
    card.refresh_from_db()
    assert card.void_reason == VoidReason.DUPLICATE
    assert card_of(routine).state == CardState.SHIPPED


def test_guardianship_found_at_qc_revokes_the_certificate(world: World, office: Office, clerk: Any) -> None:
    (card,) = _received(world, office, clerk)
    assert card.certificate_state == CertificateState.ACTIVE
    world.registry.apply(Guardianship(card.person.id_number, TODAY))
    summary = do_quality_check(office, acting_user=clerk, registry=world.registry, ca=world.ca,
                               passed=[card.serial])
    assert summary.passed == 1 and summary.certificates_revoked == 1
    card.refresh_from_db()
    assert card.state == CardState.QC_PASSED and card.certificate_state == CertificateState.REVOKED
    assert world.ca.state_of(card.serial) == "revoked:privilegeWithdrawn"


def test_notification_channels_and_one_audit_entry(world: World, office: Office, clerk: Any,
                                                   django_capture_on_commit_callbacks: Any) -> None:
    by_mail, by_sms = _received(world, office, clerk, 2, email="x@example.org", phone="0912345678")
    by_sms.application.contact_email = ""
    by_sms.application.save(update_fields=["contact_email"])
    (by_letter,) = _received(world, office, clerk)
    serials = [by_mail.serial, by_sms.serial, by_letter.serial]
    do_quality_check(office, acting_user=clerk, registry=world.registry, ca=world.ca, passed=serials)
    before = AuditEntry.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert do_notify_cards(office, acting_user=clerk, notifier=world.notifier, now=NOW) == 3
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.last()
    assert entry is not None and entry.extra["channels"] == {"email_notices": 1, "sms_notices": 1,
                                                              "letter_notices": 1}
    channels = dict(Notification.objects.values_list("card__serial", "channel"))
    assert channels == {by_mail.serial: NotificationChannel.EMAIL, by_sms.serial: NotificationChannel.SMS,
                        by_letter.serial: NotificationChannel.LETTER}
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}
    assert set(Card.objects.filter(serial__in=serials).values_list("state", flat=True)) == {"notified"}
    assert by_mail.person.id_number not in repr(world.notifier.outbox)


def test_qc_of_a_card_not_received_is_refused(world: World, office: Office, clerk: Any) -> None:
    application = make_application(make_person(), office)
    world.produce()
    with pytest.raises(NotOnRosterError):
        do_quality_check(office, acting_user=clerk, registry=world.registry, ca=world.ca,
                         passed=[card_of(application).serial])


def _office_queries(world: World, office: Office, clerk: Any, n: int) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    applications = [make_application(make_person(), office) for _ in range(n)]
    world.produce(TODAY + timedelta(days=n))
    serials = [card_of(a).serial for a in applications]
    counts = {}
    with CaptureQueriesContext(connection) as queries:
        do_receive_cards(office, acting_user=clerk, serials=serials)
    counts["receive"] = len(queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        do_quality_check(office, acting_user=clerk, registry=world.registry, ca=world.ca, passed=serials)
    counts["qc"] = len(queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        do_notify_cards(office, acting_user=clerk, notifier=world.notifier, serials=serials)
    counts["notify"] = len(queries.captured_queries)
    return counts


def test_office_stages_take_a_bounded_number_of_queries(world: World, office: Office, clerk: Any) -> None:
    small = _office_queries(world, office, clerk, 3)
    large = _office_queries(world, office, clerk, 40)
    # Never one query per card (SQLite may split a bulk INSERT in two: 999 parameters per statement).
    assert all(0 <= large[k] - small[k] <= 2 for k in small), (small, large)
