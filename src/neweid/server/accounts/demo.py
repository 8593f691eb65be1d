"""Demo data for ``neweid serve`` (idempotent): the offices (the demo ones and one per other township),
one account per role, and a small synthetic population with cases at the first office, so that every
console page shows something.

The population (:data:`DEMO_PEOPLE` people, drawn by the registry's generator and housed in the villages
of the demo offices' townships) is written by the registry loader. The cases go through the system's own
actions, as the demo clerk and the MOI administrator: applications taken, verified and batched, a
production batch made by the simulated production centre, cards received, checked, notified and issued,
a temporary certificate and a recall waiting for approval. :func:`demo_hints` says what to try.
"""

from __future__ import annotations

import datetime
import random
import secrets
import string
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from neweid.population.address import MAX_NEIGHBOURHOOD, PEOPLE_PER_NEIGHBOURHOOD, region_of, street_address
from neweid.population.data import Village, counties, villages
from neweid.population.photo import make_print_photo
from neweid.population.synthetic import generate_citizen
from neweid.server.accounts.actions import (
    OfficeSpec,
    create_office_unaudited,
    create_staff_unaudited,
    grant_role_unaudited,
)
from neweid.server.accounts.authn import enrol_totp
from neweid.server.accounts.models import Office
from neweid.server.accounts.offices import bootstrap_township_offices
from neweid.server.accounts.roles import Role
from neweid.server.audit.log import record
from neweid.server.registry.loader import default_method, generator_for, reset_sequences, write_batch
from neweid.server.registry.models import Household, Person
from neweid.server.registry.synthesis import Batch
from neweid.server.registry.values import PersonStatus

# Imported late (inside functions): the cases need the applications, cards and operations apps, which
# themselves import this app's modules.

DEMO_OFFICES = (
    OfficeSpec("6300500001", "臺北市中正區戶政事務所",
               "Zhongzheng District Household Registration Office, Taipei", "63000050"),
    OfficeSpec("6300100001", "臺北市松山區戶政事務所",
               "Songshan District Household Registration Office, Taipei", "63000010"),
    OfficeSpec("1000201001", "宜蘭縣宜蘭市戶政事務所",
               "Yilan City Household Registration Office, Yilan County", "10002010"),
)

DEMO_ROLE_OFFICE = {Role.OFFICE_CLERK: 0, Role.OFFICE_SUPERVISOR: 0, Role.COUNTY_OFFICER: 0}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    office: str
    password: str | None  # None: the account existed already (credentials were shown when it was made)
    totp_secret: str | None
    totp_uri: str | None


def demo_password() -> str:
    """A random password that satisfies the policy (16 characters, four classes)."""
    pools = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!#$%&*+-=?@^_")
    chars = [secrets.choice(pool) for pool in pools] + [secrets.choice("".join(pools)) for _ in range(12)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def ensure_demo_data(*, reset_credentials: bool = False, population: bool = True) -> list[DemoAccount]:
    """Create missing demo offices and accounts; ``reset_credentials`` gives existing ones new ones.

    With ``population`` (the default) also the demo population and cases (see the module's docstring).
    """
    accounts = _ensure_accounts(reset_credentials)
    if population:
        ensure_demo_population()
        ensure_demo_cases()
    return accounts


def _ensure_accounts(reset_credentials: bool) -> list[DemoAccount]:
    accounts: list[DemoAccount] = []
    with transaction.atomic():
        offices = []
        for spec in DEMO_OFFICES:
            office = Office.objects.filter(code=spec.code).first()
            offices.append(office if office is not None else create_office_unaudited(spec))
        bootstrap_township_offices(actor="demo")  # the other townships' offices (one per township)
        user_model = get_user_model()
        for role in Role:
            username = f"demo_{role.value}"
            office = offices[DEMO_ROLE_OFFICE[role]] if role in DEMO_ROLE_OFFICE else None
            user = user_model.objects.filter(username=username).first()
            if user is not None and not reset_credentials:
                accounts.append(DemoAccount(username, role, office.code if office else "", None, None, None))
                continue
            password = demo_password()
            if user is None:
                user = create_staff_unaudited(username, password, office=office)
                grant_role_unaudited(user, role)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
                TOTPDevice.objects.filter(user=user).delete()
            enrolment = enrol_totp(user)
            accounts.append(DemoAccount(username, role, office.code if office else "", password,
                                        enrolment.secret_base32, enrolment.uri))
        created = sum(1 for a in accounts if a.password is not None)
        if created:
            record("demo.ensure_data", object_type="staff", extra={"accounts_created_or_reset": created})
    return accounts


# -- population --------------------------------------------------------------------------------------------

DEMO_PEOPLE = 500
DEMO_SEED = 20261001


def demo_villages() -> tuple[Village, ...]:
    """The villages of the demo offices' townships."""
    townships = {spec.township_code for spec in DEMO_OFFICES}
    return tuple(v for v in villages() if v.township_code in townships)


def _relocated(batch: Batch, places: tuple[Village, ...], rng: random.Random, used: set[str]) -> Batch:
    """The batch with every household moved to one of ``places`` (address and household number to match)."""
    moved = []
    for household in batch.households:
        village = rng.choice(places)
        highest = max(1, min(MAX_NEIGHBOURHOOD, village.population // PEOPLE_PER_NEIGHBOURHOOD))
        region = region_of(village, rng.randint(1, highest))
        letter = counties()[region.county_code].id_letter
        digits = len(household.household_number) - 1
        number = letter + household.household_number[1:]
        while number in used:
            number = f"{letter}{rng.randrange(10 ** digits):0{digits}d}"
        used.add(number)
        address = (f"{region.county_name}{region.township_name}{region.village_name}{region.neighbourhood}鄰"
                   f"{street_address(rng)}")
        moved.append(replace(household, household_number=number, village_code=village.code,
                             neighbourhood=region.neighbourhood, address=address))
    return Batch(tuple(moved), batch.people)


def ensure_demo_population(people: int = DEMO_PEOPLE, *, today: datetime.date | None = None) -> int:
    """Bring the demo townships up to ``people`` people; returns how many were written (0: already there)."""
    places = demo_villages()
    present = Person.objects.filter(household__village_code__in=[v.code for v in places]).count()
    if present >= people:
        return 0
    rng = random.Random(DEMO_SEED + present)  # noqa: S311 - synthetic data, not a secret
    generator = generator_for(rng, today=today or timezone.localdate())
    used = set(Household.objects.values_list("household_number", flat=True))
    method = default_method()
    written = 0
    try:
        for batch in generator.batches(people - present, batch_size=people):
            write_batch(_relocated(batch, places, rng, used), method)
            written += len(batch.people)
    finally:
        if written:
            reset_sequences()
    return written


# -- cases at the first demo office ------------------------------------------------------------------------

DEMO_APPLICATIONS = 14  # 12 go to production, 2 stay submitted
CARD_PLAN = {"shipped": 3, "received": 2, "passed": 2, "notified": 3, "issued": 2}  # 12 cards in all


def _user(role: Role) -> Any:
    return get_user_model().objects.filter(username=f"demo_{role.value}").first()


def _candidates(office: Office, count: int, today: datetime.date) -> list[Person]:
    """Adults of the office's township, on the register, not under guardianship, with no application."""
    latest_birth = today.replace(year=today.year - 20)
    earliest_birth = today.replace(year=today.year - 64)
    return list(Person.objects.filter(
        household__village_code__startswith=office.township_code, status=PersonStatus.ACTIVE.value,
        under_guardianship=False, birth_date__lte=latest_birth, birth_date__gt=earliest_birth,
        applications__isnull=True).order_by("pk")[:count])


def _take(person: Person, rng: random.Random, clerk: Any, today: datetime.date) -> int:
    from neweid.server.applications.actions import do_submit_application
    from neweid.server.applications.models import Channel, Kind
    from neweid.server.applications.rules import ApplicationInput
    from neweid.server.registry.wiring import household_registry

    portrait = generate_citizen(rng, today=today, age=max(20, today.year - person.birth_date.year))
    request = ApplicationInput(id_number=person.id_number, channel=Channel.COUNTER,
                               kind=Kind.NATIONWIDE_REPLACEMENT, photo=make_print_photo(rng, portrait),
                               contact_email=person.email or "", contact_phone=person.phone or "")
    return do_submit_application(request, acting_user=clerk, registry=household_registry()).pk


def ensure_demo_cases() -> bool:
    """Make the demo cases unless the first demo office has applications already; True when made."""
    from neweid.server.applications.actions import do_verify_applications
    from neweid.server.applications.models import Application
    from neweid.server.cards.batching import do_apply_production_status, do_create_batches, do_send_batch
    from neweid.server.cards.ca import get_citizen_ca
    from neweid.server.cards.issuance import IssuanceChecks, do_issue_card
    from neweid.server.cards.models import Card, Collector
    from neweid.server.cards.notify import get_notifier
    from neweid.server.cards.office import do_notify_cards, do_quality_check, do_receive_cards
    from neweid.server.cards.production import SimulatedProductionCentre
    from neweid.server.cards.states import CardState
    from neweid.server.operations.models import RecallRemedy
    from neweid.server.operations.recall import RecallScope, do_request_recall
    from neweid.server.operations.temporary import do_issue_temporary_certificate
    from neweid.server.registry.wiring import household_registry

    office = Office.objects.filter(code=DEMO_OFFICES[0].code).first()
    clerk, moi = _user(Role.OFFICE_CLERK), _user(Role.MOI_ADMIN)
    if office is None or clerk is None or Application.objects.filter(office=office).exists():
        return False
    today = timezone.localdate()
    people = _candidates(office, DEMO_APPLICATIONS, today)
    if len(people) < DEMO_APPLICATIONS:
        return False
    rng = random.Random(DEMO_SEED)  # noqa: S311 - synthetic photos, not a secret
    registry, ca = household_registry(), get_citizen_ca()
    produced = sum(CARD_PLAN.values())
    ids = [_take(person, rng, clerk, today) for person in people]
    do_verify_applications(ids[:produced], acting_user=clerk)
    batches = do_create_batches(today, registry=registry, rng=rng.randbytes)
    centre = SimulatedProductionCentre(seed=DEMO_SEED)
    for batch in batches:
        do_send_batch(batch.pk, centre=centre)
        for _ in range(2):  # produced, then shipped
            do_apply_production_status(batch.pk, centre=centre, ca=ca)
    serials = list(Card.objects.filter(application_id__in=ids[:produced], state=CardState.SHIPPED)
                   .order_by("serial").values_list("serial", flat=True))
    plan = iter(CARD_PLAN.items())
    next(plan)  # the first ones stay shipped
    checked = serials[CARD_PLAN["shipped"]:]
    do_receive_cards(office, acting_user=clerk, serials=checked)
    checked = checked[CARD_PLAN["received"]:]
    do_quality_check(office, acting_user=clerk, registry=registry, ca=ca, passed=checked)
    checked = checked[CARD_PLAN["passed"]:]
    do_notify_cards(office, acting_user=clerk, notifier=get_notifier(), serials=checked)
    for serial in checked[CARD_PLAN["notified"]:]:
        do_issue_card(serial, office=office, acting_user=clerk, registry=registry, ca=ca,
                      checks=IssuanceChecks(documents_checked=True, collector=Collector.SELF))
    do_issue_temporary_certificate(ids[produced], acting_user=clerk, notes="demo")
    if moi is not None and batches:
        do_request_recall("Demo: chip firmware check", "A demonstration recall, waiting for approval.",
                          RecallRemedy.FIRMWARE_UPDATE, RecallScope(batch_ids=(batches[0].pk,)),
                          acting_user=moi)
    return True


@dataclass(frozen=True)
class DemoHints:
    """What to try in the console at the first demo office (synthetic people and cards)."""

    office: str
    people: int
    find_citizen: tuple[str, ...]  # ID numbers with applications
    open_applications: tuple[int, ...]  # application numbers for a temporary certificate
    to_receive: tuple[str, ...]  # card serials shipped to the office
    to_check: tuple[str, ...]
    to_notify: tuple[str, ...]
    to_issue: tuple[str, ...]
    card_holders: tuple[str, ...]  # ID numbers with an issued card: loss reports

    def lines(self) -> list[str]:
        def join(values: tuple[Any, ...]) -> str:
            return " ".join(str(v) for v in values) or "-"

        return [
            f"demo population: {self.people} people; cases at office {self.office} "
            "(sign in as demo_office_clerk)",
            f"  find a citizen / new application: {join(self.find_citizen)}",
            f"  temporary certificate (application no.): {join(self.open_applications)}",
            f"  cards to receive: {join(self.to_receive)}",
            f"  cards to check: {join(self.to_check)}",
            f"  cards to notify: {join(self.to_notify)}",
            f"  cards to issue: {join(self.to_issue)}",
            f"  loss report (holders of issued cards): {join(self.card_holders)}",
        ]


def demo_hints(limit: int = 3) -> DemoHints:
    """Read from the database what there is to try at the first demo office."""
    from neweid.server.applications.models import OPEN_STATUSES, Application
    from neweid.server.cards.models import Card
    from neweid.server.cards.states import CardState

    code = DEMO_OFFICES[0].code
    cards = Card.objects.filter(pickup_office__code=code).order_by("serial")

    def serials(state: CardState) -> tuple[str, ...]:
        return tuple(cards.filter(state=state).values_list("serial", flat=True)[:limit])

    applications = Application.objects.filter(office__code=code)
    open_ones = applications.filter(status__in=OPEN_STATUSES).exclude(
        pk__in=Card.objects.filter(state=CardState.ISSUED).values("application_id")).order_by("pk")
    return DemoHints(
        office=code,
        people=Person.objects.filter(household__village_code__in=[v.code for v in demo_villages()]).count(),
        find_citizen=tuple(applications.order_by("pk").values_list("person__id_number", flat=True)[:limit]),
        open_applications=tuple(open_ones.values_list("pk", flat=True)[:limit]),
        to_receive=serials(CardState.SHIPPED), to_check=serials(CardState.RECEIVED),
        to_notify=serials(CardState.QC_PASSED), to_issue=serials(CardState.NOTIFIED),
        card_holders=tuple(cards.filter(state=CardState.ISSUED).values_list("person__id_number", flat=True)
                           [:limit]),
    )
