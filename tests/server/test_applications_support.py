"""Helpers shared by the applications tests (no tests here): people on the register, photos, a clock."""

from __future__ import annotations

import io
import itertools
import random
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from PIL import Image

from neweid.formats.idnumber import generate_id_number
from neweid.formats.sex import Sex
from neweid.formats.zones import MaritalStatus, MilitaryStatus
from neweid.server.applications.models import Channel, Kind
from neweid.server.applications.rules import ApplicationInput
from neweid.server.registry.models import Household, Person
from neweid.server.registry.values import PersonStatus, Relationship

NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # 10:00 in Taipei
TODAY = date(2026, 10, 1)
HOME_VILLAGE = "63000050001"  # 水源里, Zhongzheng District: the `office` fixture's township
OTHER_VILLAGE = "10002010001"  # 神農里, Yilan City: the `other_office` fixture's township

_ids = random.Random(4242)
_numbers = itertools.count(1)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@cache
def jpeg(width: int = 826, height: int = 1062, quality: int = 60) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (236, 242, 250)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png(width: int = 826, height: int = 1062) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (236, 242, 250)).save(buffer, "PNG")
    return buffer.getvalue()


def make_household(village: str = HOME_VILLAGE, neighbourhood: int = 1) -> Household:
    return Household.objects.create(household_number=f"A{next(_numbers):07d}", village_code=village,
                                    neighbourhood=neighbourhood, address="臺北市中正區水源里1鄰汀州路三段1號")


def make_person(household: Household | None = None, *, birth: date = date(1990, 5, 1), sex: Sex = Sex.MALE,
                status: PersonStatus = PersonStatus.ACTIVE, relationship: Relationship = Relationship.HEAD,
                **extra: Any) -> Person:
    fields: dict[str, Any] = {
        "id_number": generate_id_number(_ids, "A", sex), "surname": "陳", "given_name": "志明",
        "romanised_name": "CHEN, CHIH-MING", "sex": sex.value, "birth_date": birth,
        "birthplace_name": "臺北市", "birthplace_county_code": "63000",
        "marital_status": MaritalStatus.SINGLE.value,
        "military_status": (MilitaryStatus.REGULAR if sex is Sex.MALE
                            else MilitaryStatus.NOT_APPLICABLE_FEMALE).value,
        "father_name": "陳大明", "mother_name": "林美麗",
        "household": household if household is not None else make_household(),
        "relationship": relationship.value, "status": status.value,
    }
    fields.update(extra)
    return Person.objects.create(**fields)


def make_family(*, child_birth: date = date(2016, 6, 1)) -> tuple[Person, Person, Person]:
    """Father, mother and a child (under 14 on TODAY by default) in one household."""
    household = make_household()
    father = make_person(household, birth=date(1985, 1, 1))
    mother = make_person(household, birth=date(1986, 2, 2), sex=Sex.FEMALE, relationship=Relationship.SPOUSE,
                         surname="林", given_name="美麗")
    child = make_person(household, birth=child_birth, relationship=Relationship.CHILD, father=father,
                        mother=mother, given_name="小明")
    return father, mother, child


def request_for(person: Person, **overrides: Any) -> ApplicationInput:
    fields: dict[str, Any] = {"id_number": person.id_number, "channel": Channel.COUNTER,
                              "kind": Kind.NATIONWIDE_REPLACEMENT, "photo": jpeg()}
    fields.update(overrides)
    return ApplicationInput(**fields)
