"""Issuance (MGMT-8, table 14): documents, household data, who collects, the chip content current, the
pickup confirmation with the default user code, the old card cut and retained, guardianship."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from neweid.server.accounts.models import Office
from neweid.server.applications.models import Application, Status
from neweid.server.cards.errors import (
    ChildNotPresentError,
    ChipUpdateNeededError,
    CollectInPersonError,
    ConsentRequiredError,
    DocumentsNotCheckedError,
    FaceDataChangedError,
    IllegalTransition,
    PersonNotRegisteredError,
    RepresentativeRequiredError,
    WrongOfficeError,
)
from neweid.server.cards.issuance import (
    USER_CODE_LENGTH,
    IssuanceChecks,
    check_user_code,
    do_issue_card,
    hash_user_code,
    new_user_code,
)
from neweid.server.cards.models import Card, Collector, PickupConfirmation
from neweid.server.cards.office import do_notify_cards, do_quality_check, do_receive_cards
from neweid.server.cards.states import CardState, CertificateState
from neweid.server.cards.transitions import transition
from neweid.server.registry.interface import Death, Guardianship, Move, NameChange, NewHousehold
from neweid.server.registry.models import Person
from tests.server.test_cards_support import (
    NOW,
    TODAY,
    World,
    card_of,
    clerk,
    make_application,
    make_person,
    village,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["clerk", "world"]

IN_PERSON = IssuanceChecks(documents_checked=True, collector=Collector.SELF)


def notified(world: World, office: Office, clerk: Any, person: Person, **kwargs: Any) -> Card:
    application = make_application(person, office, **kwargs)
    world.produce()
    card = card_of(application)
    do_receive_cards(office, acting_user=clerk, serials=[card.serial])
    do_quality_check(office, acting_user=clerk, registry=world.registry, ca=world.ca, passed=[card.serial])
    do_notify_cards(office, acting_user=clerk, notifier=world.notifier, serials=[card.serial])
    card.refresh_from_db()
    return card


def issue(world: World, office: Office, clerk: Any, card: Card, checks: IssuanceChecks = IN_PERSON) -> Any:
    return do_issue_card(card.serial, office=office, checks=checks, acting_user=clerk,
                         registry=world.registry, ca=world.ca, rng=random.Random(7).randbytes,
                         now=world.clock())


def test_issuing_to_an_adult_in_person(world: World, office: Office, clerk: Any) -> None:
    card = notified(world, office, clerk, make_person())
    result = issue(world, office, clerk, card)
    assert result.card.state == CardState.ISSUED and result.card.issued_at == world.clock()
    code = result.default_user_code
    assert len(code) == USER_CODE_LENGTH and code.isalnum()
    confirmation = PickupConfirmation.objects.get(card=card)
    assert code not in confirmation.user_code_hash and check_user_code(code, confirmation.user_code_hash)
    assert confirmation.collector == Collector.SELF and confirmation.documents_checked
    application = Application.objects.get(pk=card.application_id)
    assert application.status == Status.COMPLETED and bytes(application.photo) == b""
    assert code not in repr(result)


def test_the_user_code_is_random() -> None:
    codes = {new_user_code() for _ in range(50)}
    assert len(codes) == 50
    assert new_user_code(random.Random(1).randbytes) == new_user_code(random.Random(1).randbytes)
    stored = hash_user_code("ABCDE23456")
    assert check_user_code("ABCDE23456", stored) and not check_user_code("ABCDE23457", stored)
    assert stored != hash_user_code("ABCDE23456")  # salted
    assert not check_user_code("ABCDE23456", "md5$x$y") and not check_user_code("ABCDE23456", "")


def test_documents_must_be_checked(world: World, office: Office, clerk: Any) -> None:
    card = notified(world, office, clerk, make_person())
    with pytest.raises(DocumentsNotCheckedError) as caught:
        issue(world, office, clerk, card, IssuanceChecks(documents_checked=False, collector=Collector.SELF))
    assert caught.value.code == "C405"
    card.refresh_from_db()
    assert card.state == CardState.NOTIFIED


def test_adults_collect_in_person(world: World, office: Office, clerk: Any) -> None:
    card = notified(world, office, clerk, make_person())
    with pytest.raises(CollectInPersonError):
        issue(world, office, clerk, card, IssuanceChecks(True, Collector.LEGAL_REPRESENTATIVE, "A123456789",
                                                         child_present=True))


def _child(world: World, office: Office, clerk: Any) -> tuple[Card, Person, Person]:
    father = make_person(birth=date(1985, 1, 1))
    mother = make_person(birth=date(1987, 1, 1))
    child = make_person(birth=date(2018, 6, 1), father=father, mother=mother)
    return notified(world, office, clerk, child), father, mother


def test_a_child_with_a_legal_representative_and_present(world: World, office: Office, clerk: Any) -> None:
    card, father, _ = _child(world, office, clerk)
    with pytest.raises(RepresentativeRequiredError):
        issue(world, office, clerk, card)  # the child alone
    with pytest.raises(RepresentativeRequiredError):  # someone who is not a parent on the register
        issue(world, office, clerk, card, IssuanceChecks(True, Collector.LEGAL_REPRESENTATIVE,
                                                         make_person().id_number, child_present=True))
    with pytest.raises(ChildNotPresentError) as caught:
        issue(world, office, clerk, card, IssuanceChecks(True, Collector.LEGAL_REPRESENTATIVE,
                                                         father.id_number, child_present=False))
    assert caught.value.code == "C408"
    result = issue(world, office, clerk, card, IssuanceChecks(True, Collector.LEGAL_REPRESENTATIVE,
                                                              father.id_number, child_present=True))
    assert result.confirmation.collector_person_id == father.pk and result.confirmation.child_present


def test_a_child_with_an_authorised_ascendant(world: World, office: Office, clerk: Any) -> None:
    card, _, _ = _child(world, office, clerk)
    grandmother = make_person(birth=date(1955, 1, 1))
    with pytest.raises(ConsentRequiredError):
        issue(world, office, clerk, card, IssuanceChecks(True, Collector.AUTHORISED_ASCENDANT,
                                                         grandmother.id_number, child_present=True))
    result = issue(world, office, clerk, card, IssuanceChecks(True, Collector.AUTHORISED_ASCENDANT,
                                                              grandmother.id_number, child_present=True,
                                                              consent_document=True))
    assert result.card.state == CardState.ISSUED and result.confirmation.consent_document


def test_the_person_must_still_be_registered(world: World, office: Office, clerk: Any) -> None:
    card = notified(world, office, clerk, make_person())
    world.registry.apply(Death(card.person.id_number, TODAY))
    with pytest.raises(PersonNotRegisteredError) as caught:
        issue(world, office, clerk, card)
    assert caught.value.code == "C401"


def test_a_change_of_printed_data_needs_a_new_card(world: World, office: Office, clerk: Any) -> None:
    card = notified(world, office, clerk, make_person())
    world.registry.apply(NameChange(card.person.id_number, TODAY, "王", "小明", "WANG, HSIAO-MING"))
    with pytest.raises(FaceDataChangedError) as caught:
        issue(world, office, clerk, card)
    assert caught.value.code == "C402"


def test_a_change_of_updatable_data_needs_a_chip_update(world: World, office: Office, clerk: Any) -> None:
    card = notified(world, office, clerk, make_person())
    new_home = NewHousehold(village(), 2, "臺北市中正區某路2號")
    world.registry.apply(Move(card.person.id_number, TODAY, new_home))
    with pytest.raises(ChipUpdateNeededError) as caught:
        issue(world, office, clerk, card)
    assert caught.value.code == "C403"
    card.refresh_from_db()
    assert card.state == CardState.NOTIFIED


def test_only_notified_cards_of_this_office(world: World, office: Office, other_office: Office,
                                            clerk: Any) -> None:
    card = notified(world, office, clerk, make_person())
    transition([card.pk], CardState.DEFECTIVE, actor="x")
    with pytest.raises(IllegalTransition) as caught:
        issue(world, office, clerk, card)
    assert (caught.value.from_state, caught.value.to_state) == ("defective", "issued")
    elsewhere = make_application(make_person(), other_office)
    world.produce(TODAY + timedelta(days=1))
    with pytest.raises(WrongOfficeError):
        issue(world, office, clerk, card_of(elsewhere))


def test_the_old_card_is_cut_and_its_certificate_revoked(world: World, office: Office, clerk: Any) -> None:
    person = make_person()
    old = notified(world, office, clerk, person)
    issue(world, office, clerk, old)
    world.clock.advance(days=400)
    new = notified(world, office, clerk, person, verified_at=world.clock())
    result = issue(world, office, clerk, new)
    old.refresh_from_db()
    assert old.state == CardState.REPLACED and old.certificate_state == CertificateState.REVOKED
    assert world.ca.state_of(old.serial) == "revoked:superseded"
    assert result.confirmation.old_cards_retained == 1


def test_a_lost_old_card_is_superseded(world: World, office: Office, clerk: Any) -> None:
    person = make_person()
    old = notified(world, office, clerk, person)
    issue(world, office, clerk, old)
    transition([old.pk], CardState.LOST, actor="x")
    world.clock.advance(days=10)
    new = notified(world, office, clerk, person, verified_at=world.clock())
    issue(world, office, clerk, new)
    old.refresh_from_db()
    assert old.state == CardState.REISSUED


def test_guardianship_found_at_issuance_revokes_the_certificate(world: World, office: Office,
                                                              clerk: Any) -> None:
    card = notified(world, office, clerk, make_person())
    assert card.certificate_state == CertificateState.ACTIVE
    world.registry.apply(Guardianship(card.person.id_number, TODAY))
    result = issue(world, office, clerk, card)
    assert result.card.state == CardState.ISSUED
    assert result.card.certificate_state == CertificateState.REVOKED
    assert world.ca.state_of(card.serial) == "revoked:privilegeWithdrawn"


def test_issuing_twice_is_refused(world: World, office: Office, clerk: Any) -> None:
    card = notified(world, office, clerk, make_person())
    issue(world, office, clerk, card)
    with pytest.raises(IllegalTransition):
        issue(world, office, clerk, card)
    assert PickupConfirmation.objects.count() == 1
    assert world.clock() >= NOW
