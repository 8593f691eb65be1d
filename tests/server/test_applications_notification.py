"""Notification schedules (≥15 days ahead) and per-household letters with a QR code (MGMT-4, DOC-3)."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from neweid.server.accounts.roles import Role
from neweid.server.applications.actions import do_submit_application
from neweid.server.applications.errors import ApplicationError
from neweid.server.applications.errors import ApplicationErrorCode as C
from neweid.server.applications.models import Channel, Kind, NotificationLetter
from neweid.server.applications.notification import (
    Enclosure,
    Note,
    do_generate_letters,
    do_schedule_notification,
    letter_content,
    letter_qr_png,
    letter_url,
)
from neweid.server.audit.models import AuditEntry
from neweid.server.errors import NotFoundError
from neweid.server.registry.simulated import SimulatedRegistry
from neweid.server.registry.values import PersonStatus, Relationship
from tests.server.conftest import StaffAccount
from tests.server.test_applications_support import (
    HOME_VILLAGE,
    OTHER_VILLAGE,
    TODAY,
    Clock,
    make_household,
    make_person,
    request_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_staff: Callable[..., StaffAccount]) -> Any:
    return make_staff(Role.OFFICE_CLERK).user


def schedule(clerk: Any, days_ahead: int = 15, village: str = HOME_VILLAGE,
             neighbourhood: int | None = None) -> Any:
    return do_schedule_notification(village, TODAY + timedelta(days=days_ahead), "水源里辦公處",
                                    neighbourhood=neighbourhood, hours="09:00-17:00", acting_user=clerk,
                                    clock=Clock())


def test_schedule_15_days_ahead(clerk: Any, office: Any) -> None:
    item = schedule(clerk, 15)
    assert item.office == office and item.scheduled_on == TODAY and item.date == TODAY + timedelta(days=15)
    assert AuditEntry.objects.filter(function="applications.schedule_notification", result="success").exists()


@pytest.mark.parametrize("days", [14, 0, -3])
def test_schedule_less_than_15_days_ahead_is_refused(clerk: Any, days: int) -> None:
    with pytest.raises(ApplicationError) as caught:
        schedule(clerk, days)
    assert caught.value.code == C.NOTICE_TOO_LATE


def test_schedule_only_villages_of_the_office(clerk: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        schedule(clerk, village=OTHER_VILLAGE)
    assert caught.value.code == C.VILLAGE_NOT_IN_OFFICE_AREA
    with pytest.raises(ApplicationError) as caught:
        schedule(clerk, village="63000050999")
    assert caught.value.code == C.UNKNOWN_VILLAGE


def _area() -> tuple[Any, Any, Any]:
    """Two households in neighbourhood 1, one in neighbourhood 2, one elsewhere, one with nobody left."""
    big = make_household(HOME_VILLAGE, 1)
    make_person(big)
    make_person(big, relationship=Relationship.SPOUSE)
    make_person(big, relationship=Relationship.CHILD, status=PersonStatus.DEAD)
    small = make_household(HOME_VILLAGE, 1)
    make_person(small)
    other_nbh = make_household(HOME_VILLAGE, 2)
    make_person(other_nbh)
    make_person(make_household(OTHER_VILLAGE, 1))
    make_person(make_household(HOME_VILLAGE, 1), status=PersonStatus.EMIGRATED)
    return big, small, other_nbh


def test_letters_one_per_household_with_forms_per_person(clerk: Any) -> None:
    big, small, other_nbh = _area()
    item = schedule(clerk)
    assert do_generate_letters(item.pk, acting_user=clerk, clock=Clock(),
                               rng=random.Random(1).randbytes) == 3
    letters = {letter.household_id: letter for letter in NotificationLetter.objects.filter(schedule=item)}
    assert set(letters) == {big.pk, small.pk, other_nbh.pk}
    assert letters[big.pk].people == 2  # the dead child gets no form
    assert letters[big.pk].enclosures == {Enclosure.NOTICE: 1, Enclosure.APPLICATION_FORM: 2,
                                          Enclosure.RECEIPT: 1, Enclosure.POWER_OF_ATTORNEY: 1,
                                          Enclosure.PHOTO_INSTRUCTIONS: 1}
    assert len({letter.token for letter in letters.values()}) == 3
    entries = AuditEntry.objects.filter(function="applications.generate_letters")
    assert entries.count() == 1 and entries.get().extra == {"letters": 3}
    # A second run adds nothing.
    assert do_generate_letters(item.pk, acting_user=clerk, clock=Clock()) == 0


def test_letters_of_one_neighbourhood(clerk: Any) -> None:
    _big, _small, other_nbh = _area()
    item = schedule(clerk, neighbourhood=2)
    assert do_generate_letters(item.pk, acting_user=clerk) == 1
    assert NotificationLetter.objects.get(schedule=item).household_id == other_nbh.pk


def test_letters_are_generated_set_based(clerk: Any, django_assert_max_num_queries: Any) -> None:
    for _ in range(30):
        make_person(make_household(HOME_VILLAGE, 3))
    item = schedule(clerk, neighbourhood=3)
    with django_assert_max_num_queries(15):
        assert do_generate_letters(item.pk, acting_user=clerk) == 30


def test_other_offices_cannot_generate_letters(clerk: Any, make_staff: Callable[..., StaffAccount],
                                               other_office: Any) -> None:
    item = schedule(clerk)
    stranger = make_staff(Role.OFFICE_CLERK).user
    stranger.staff_profile.office = other_office
    stranger.staff_profile.save()
    with pytest.raises(NotFoundError):
        do_generate_letters(item.pk, acting_user=stranger)


def test_qr_code_png_and_letter_content(clerk: Any) -> None:
    big, _small, _other = _area()
    item = schedule(clerk)
    do_generate_letters(item.pk, acting_user=clerk)
    letter = NotificationLetter.objects.get(schedule=item, household=big)
    assert letter_url(letter).endswith("?letter=" + letter.token) and len(letter.token) == 32
    image = Image.open(io.BytesIO(letter_qr_png(letter)))
    assert image.format == "PNG" and image.size[0] == image.size[1] >= 200
    content = letter_content(letter, SimulatedRegistry())
    assert content.household_number == big.household_number and len(content.people) == 2
    assert content.head_name == "陳志明" and content.location == "水源里辦公處"
    assert set(content.notes) == set(Note)
    assert big.household_number not in repr(content)


def test_a_letter_opens_online_reissue(clerk: Any, office: Any) -> None:
    big, _small, _other = _area()
    item = schedule(clerk)
    person = big.members.filter(status=PersonStatus.ACTIVE.value).first()
    do_generate_letters(item.pk, acting_user=clerk)
    application = do_submit_application(
        request_for(person, channel=Channel.ONLINE, kind=Kind.REISSUE_LOSS, pickup_office_code=office.code,
                    pickup_date=TODAY + timedelta(days=20)), acting_user=None, registry=SimulatedRegistry(),
        clock=Clock())
    assert application.fee == 200 and application.channel == Channel.ONLINE
