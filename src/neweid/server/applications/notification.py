"""Notification of the nationwide replacement (MGMT-4, DOC-3): the office schedules a village (or one
neighbourhood) at least 15 days ahead, then one letter per household goes out with a QR code to the
online application, the instructions and the forms.

Letters are produced set-based (one query for the households and their people to replace, one bulk
insert, one audit entry). A letter keeps no personal data: names and address are read from the register
when it is printed (:func:`letter_content`); the QR code is drawn on demand (:func:`letter_qr_png`).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import qrcode  # type: ignore[import-untyped]  # no stubs; see the report about types-qrcode
from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from neweid.population.data import villages
from neweid.server.accounts.models import Office
from neweid.server.applications.actions import staff_office
from neweid.server.applications.errors import ApplicationErrorCode, ApplicationRefusedError
from neweid.server.applications.models import NotificationLetter, NotificationSchedule
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.errors import NotFoundError
from neweid.server.registry.interface import HouseholdRegistry, PersonRecord
from neweid.server.registry.models import Household
from neweid.server.registry.values import PersonStatus
from neweid.server.registry.wiring import household_registry

Clock = Callable[[], datetime]
Rng = Callable[[int], bytes]
MIN_NOTICE_DAYS = 15  # 最遲應於排定換證日期前 15 日 (Ch.11 參.二.(一)2.(2))
DEFAULT_ONLINE_APPLICATION_URL = "https://neweid.example.tw/apply"
TOKEN_BYTES = 16


class Enclosure(StrEnum):
    """What each household's envelope holds (Ch.11 參.二.(一)2.(2)B)."""

    NOTICE = "notice"  # 換證通知單, one per household
    APPLICATION_FORM = "application_form"  # 換證申請書, one per person to replace
    RECEIPT = "receipt"  # 收件證明
    POWER_OF_ATTORNEY = "power_of_attorney"  # 換證委託書
    PHOTO_INSTRUCTIONS = "photo_instructions"  # 數位相片繳交方式及相片規格


class Note(StrEnum):
    """The notes (注意事項) the notice must carry (Ch.11 參.二.(一)3.(2))."""

    APPLICANT = "applicant"  # 申請人
    CHANNELS = "channels"  # 申請方式
    SITE = "site"  # 戶政事務所排定地點
    COUNTER_DOCUMENTS = "counter_documents"  # 臨櫃申請應備文件
    ONLINE_PROCEDURE = "online_procedure"  # 網路申請程序
    FOREIGN_NAME = "foreign_name"  # 外文姓名填寫注意事項
    CONTACT = "contact"  # 民眾聯絡資訊填寫注意事項
    USER_CODE = "user_code"  # 用戶代碼解鎖方式注意事項
    PROXY = "proxy"  # 委託送件注意事項
    RENEWAL_DATES = "renewal_dates"  # 各年齡區間申請 New eID 之卡片應換領日期
    CERTIFICATE = "certificate"  # 自然人憑證申請規定及效期說明
    FEES = "fees"  # 規費繳交之說明
    PICKUP = "pickup"  # 領證注意事項


def enclosures_for(people: int) -> dict[str, int]:
    return {e.value: (people if e is Enclosure.APPLICATION_FORM else 1) for e in Enclosure}


@cache
def _village_codes() -> frozenset[str]:
    return frozenset(v.code for v in villages())


def do_schedule_notification(village_code: str, day: date, location: str, *, neighbourhood: int | None = None,
                             hours: str = "", acting_user: Any,
                             clock: Clock = timezone.now) -> NotificationSchedule:
    """Schedule the replacement for a village (or neighbourhood) of the actor's office, ≥15 days ahead."""
    with audited_action("applications.schedule_notification", actor=actor_id(acting_user),
                        object_type="notification_schedule",
                        extra={"village": village_code, "neighbourhood": neighbourhood,
                               "date": day.isoformat()}) as audit:
        office = staff_office(acting_user)
        if village_code not in _village_codes():
            raise ApplicationRefusedError(ApplicationErrorCode.UNKNOWN_VILLAGE)
        if village_code[:8] != office.township_code:
            raise ApplicationRefusedError(ApplicationErrorCode.VILLAGE_NOT_IN_OFFICE_AREA)
        today = timezone.localdate(clock())
        if day - today < timedelta(days=MIN_NOTICE_DAYS):
            raise ApplicationRefusedError(ApplicationErrorCode.NOTICE_TOO_LATE)
        if not location.strip() or (neighbourhood is not None and not 1 <= neighbourhood <= 9999):
            raise ApplicationRefusedError(ApplicationErrorCode.UNKNOWN_VILLAGE)
        schedule = NotificationSchedule.objects.create(
            office=office, village_code=village_code, neighbourhood=neighbourhood, date=day,
            location=location.strip(), hours=hours.strip(), scheduled_on=today,
            created_by=actor_id(acting_user))
        audit.object_id = str(schedule.pk)
        return schedule


def households_to_notify(schedule: NotificationSchedule) -> list[tuple[int, int]]:
    """(household pk, people to replace) of the scheduled area's households with anyone to replace.

    Reads the simulated register's tables directly: the registry interface has no area query yet."""
    area = Q(village_code=schedule.village_code)
    if schedule.neighbourhood is not None:
        area &= Q(neighbourhood=schedule.neighbourhood)
    rows = (Household.objects.filter(area)
            .annotate(people=Count("members", filter=Q(members__status=PersonStatus.ACTIVE.value)))
            .filter(people__gt=0).order_by("pk").values_list("pk", "people"))
    return list(rows)


def _schedule_of_office(schedule_id: int, office: Office) -> NotificationSchedule:
    schedule = NotificationSchedule.objects.filter(pk=schedule_id, office=office).first()
    if schedule is None:
        raise NotFoundError()
    return schedule


def do_generate_letters(schedule_id: int, *, acting_user: Any, clock: Clock = timezone.now,
                        rng: Rng = secrets.token_bytes) -> int:
    """One letter per household of the scheduled area (households already lettered are skipped);
    returns how many letters were made. One audit entry for the whole run."""
    with audited_action("applications.generate_letters", actor=actor_id(acting_user),
                        object_type="notification_schedule", object_id=schedule_id) as audit:
        office = staff_office(acting_user)
        schedule = _schedule_of_office(schedule_id, office)
        done = set(NotificationLetter.objects.filter(schedule=schedule)
                   .values_list("household_id", flat=True))
        now = clock()
        letters = [NotificationLetter(schedule=schedule, household_id=pk, token=rng(TOKEN_BYTES).hex(),
                                      people=people, enclosures=enclosures_for(people), created_at=now)
                   for pk, people in households_to_notify(schedule) if pk not in done]
        NotificationLetter.objects.bulk_create(letters, batch_size=2_000)
        audit.extra["letters"] = len(letters)
        return len(letters)


def letter_url(letter: NotificationLetter) -> str:
    base = getattr(settings, "NEWEID_ONLINE_APPLICATION_URL", DEFAULT_ONLINE_APPLICATION_URL)
    return f"{base}?letter={letter.token}"


def letter_qr_png(letter: NotificationLetter) -> bytes:
    """The letter's QR code (to the online application) as PNG."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(letter_url(letter))
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True, repr=False)
class LetterContent:
    """What the printed notice shows (DOC-3): head of household and the people to replace, the address,
    the appointment, the QR code URL, the enclosures and the notes."""

    household_number: str
    address: str
    head_name: str
    people: tuple[str, ...]
    office_code: str
    date: date
    location: str
    hours: str
    url: str
    enclosures: dict[str, int]
    notes: tuple[Note, ...]

    def __repr__(self) -> str:
        return f"LetterContent(date={self.date.isoformat()}, people={len(self.people)})"


def letter_content(letter: NotificationLetter, registry: HouseholdRegistry | None = None) -> LetterContent:
    """The letter filled in from the register as it is now."""
    registry = registry if registry is not None else household_registry()
    number = letter.household.household_number
    members: tuple[PersonRecord, ...] = registry.members(number)
    active = tuple(m for m in members if m.status is PersonStatus.ACTIVE)
    head = members[0].chinese_name if members else ""
    schedule = letter.schedule
    return LetterContent(
        household_number=number, address=registry.household(number).address, head_name=head,
        people=tuple(m.chinese_name for m in active), office_code=schedule.office.code, date=schedule.date,
        location=schedule.location, hours=schedule.hours, url=letter_url(letter),
        enclosures=dict(letter.enclosures), notes=tuple(Note))
