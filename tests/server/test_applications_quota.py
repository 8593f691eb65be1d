"""Out-of-district online pickups (MGMT-2): per-office daily quotas that are never oversold, alternatives
when full, places given back on cancellation; verification and cancellation of applications."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from neweid.server.accounts.roles import Role
from neweid.server.applications.actions import (
    do_cancel_application,
    do_submit_application,
    do_verify_application,
    do_verify_applications,
)
from neweid.server.applications.errors import ApplicationError, QuotaFullError, QuotaSlot
from neweid.server.applications.errors import ApplicationErrorCode as C
from neweid.server.applications.models import Application, Channel, OfficeDailyQuota, Status
from neweid.server.applications.quota import availability, do_set_quota, reserve_place
from neweid.server.audit.models import AuditEntry
from neweid.server.errors import AccessDeniedError, ErrorCode, NotFoundError
from neweid.server.registry.models import Person
from neweid.server.registry.simulated import SimulatedRegistry
from neweid.server.registry.values import PersonStatus
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

PICKUP = TODAY + timedelta(days=20)
needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                    reason="SQLite serialises all writers (one lock for the whole "
                                           "database), so concurrent reservations prove nothing there; "
                                           "run on PostgreSQL")


def online(person: Person, office: Any, day: date = PICKUP) -> Any:
    return request_for(person, channel=Channel.ONLINE, pickup_office_code=office.code, pickup_date=day)


def submit_online(person: Person, office: Any, day: date = PICKUP) -> Application:
    """As the online portal does (no staff member acts)."""
    return do_submit_application(online(person, office, day), acting_user=None,
                                 registry=SimulatedRegistry(clock=Clock()), clock=Clock())


def outsider() -> Person:
    return make_person(make_household(OTHER_VILLAGE))


def set_capacity(office: Any, capacity: int, day: date = PICKUP, days: int = 1) -> None:
    rows = [OfficeDailyQuota(office=office, day=day + timedelta(days=i), capacity=capacity)
            for i in range(days)]
    OfficeDailyQuota.objects.bulk_create(rows)


@pytest.mark.django_db
def test_out_of_district_online_pickup_takes_a_place(office: Any) -> None:
    set_capacity(office, 2)
    application = submit_online(outsider(), office)
    assert application.out_of_district and application.pickup_office == office
    assert application.office == office  # online: the pickup office handles it
    assert OfficeDailyQuota.objects.get(office=office, day=PICKUP).used == 1


@pytest.mark.django_db
def test_in_district_online_pickup_needs_no_place(office: Any) -> None:
    application = submit_online(make_person(make_household(HOME_VILLAGE)), office)  # no quota row at all
    assert not application.out_of_district


@pytest.mark.django_db
def test_full_quota_refuses_with_alternatives(office: Any, other_office: Any) -> None:
    set_capacity(office, 1)
    set_capacity(office, 3, PICKUP + timedelta(days=1))
    set_capacity(office, 0, PICKUP + timedelta(days=2))
    submit_online(outsider(), office)
    late = outsider()
    with pytest.raises(QuotaFullError) as caught:
        submit_online(late, office)
    assert caught.value.code == C.QUOTA_FULL and caught.value.http_status == 409
    assert caught.value.alternatives == (QuotaSlot(office.code, PICKUP + timedelta(days=1), 3),)
    assert OfficeDailyQuota.objects.get(office=office, day=PICKUP).used == 1
    assert not Application.objects.filter(person=late).exists()
    # The citizen picks the suggested day and gets it.
    assert submit_online(late, office, PICKUP + timedelta(days=1)).pickup_date == PICKUP + timedelta(days=1)


@pytest.mark.django_db
def test_alternatives_include_other_offices_of_the_county(office: Any) -> None:
    from neweid.server.accounts.actions import OfficeSpec, create_office_unaudited

    neighbour = create_office_unaudited(OfficeSpec("6300600001", "臺北市大同區戶政事務所",
                                                   "Datong Household Registration Office", "63000060"))
    set_capacity(office, 0)
    set_capacity(neighbour, 5)
    with pytest.raises(QuotaFullError) as caught:
        submit_online(outsider(), office)
    assert QuotaSlot(neighbour.code, PICKUP, 5) in caught.value.alternatives


@pytest.mark.django_db
def test_no_quota_row_means_no_out_of_district_places(office: Any) -> None:
    with pytest.raises(QuotaFullError):
        submit_online(outsider(), office)


@pytest.mark.django_db
def test_cancel_gives_the_place_back(office: Any, make_staff: Callable[..., StaffAccount]) -> None:
    set_capacity(office, 1)
    application = submit_online(outsider(), office)
    clerk = make_staff(Role.OFFICE_CLERK).user
    cancelled = do_cancel_application(application.pk, acting_user=clerk)
    assert cancelled.status == Status.CANCELLED
    assert OfficeDailyQuota.objects.get(office=office, day=PICKUP).used == 0
    submit_online(outsider(), office)  # the place is free again
    with pytest.raises(ApplicationError) as caught:
        do_cancel_application(application.pk, acting_user=clerk)
    assert caught.value.code == C.WRONG_STATE


@pytest.mark.django_db
def test_the_database_refuses_an_oversold_quota(office: Any) -> None:
    from django.db import IntegrityError

    set_capacity(office, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        OfficeDailyQuota.objects.filter(office=office).update(used=2)


@pytest.mark.django_db
def test_set_quota_by_the_supervisor_only(office: Any, make_staff: Callable[..., StaffAccount]) -> None:
    supervisor, clerk = make_staff(Role.OFFICE_SUPERVISOR).user, make_staff(Role.OFFICE_CLERK).user
    assert do_set_quota(office, PICKUP, 30, days=5, acting_user=supervisor) == 5
    assert [s.remaining for s in availability([office], PICKUP, 7)] == [30] * 5
    with pytest.raises(AccessDeniedError):
        do_set_quota(office, PICKUP, 40, acting_user=clerk)
    assert AuditEntry.objects.filter(function="applications.set_quota", result="denied").count() == 1


@pytest.mark.django_db
def test_capacity_cannot_drop_below_places_taken(office: Any,
                                                  make_staff: Callable[..., StaffAccount]) -> None:
    supervisor = make_staff(Role.OFFICE_SUPERVISOR).user
    set_capacity(office, 3)
    submit_online(outsider(), office)
    submit_online(outsider(), office)
    with pytest.raises(ApplicationError) as caught:
        do_set_quota(office, PICKUP, 1, acting_user=supervisor)
    assert caught.value.code == C.BAD_QUOTA
    assert do_set_quota(office, PICKUP, 2, acting_user=supervisor) == 1
    assert not reserve_place(office.pk, PICKUP)  # 2 of 2 taken


# -- concurrency (PostgreSQL) ------------------------------------------------------------------------------


def _race(workers: int, job: Callable[[int], Any]) -> list[Any]:
    """Run ``job(i)`` in ``workers`` threads released together, each on its own connection."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = job(i)
        except Exception as exc:  # collected and checked by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return results


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_oversell(office: Any) -> None:
    set_capacity(office, 7)

    def reserve(_: int) -> bool:
        with transaction.atomic():
            return reserve_place(office.pk, PICKUP)

    results = _race(24, reserve)
    assert results.count(True) == 7 and results.count(False) == 17
    assert OfficeDailyQuota.objects.get(office=office, day=PICKUP).used == 7


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_online_applications_never_oversell(office: Any) -> None:
    set_capacity(office, 4)
    people = [outsider() for _ in range(12)]
    results = _race(12, lambda i: submit_online(people[i], office))
    accepted = [r for r in results if isinstance(r, Application)]
    full = [r for r in results if isinstance(r, QuotaFullError)]
    assert len(accepted) == 4 and len(full) == 8, results
    assert OfficeDailyQuota.objects.get(office=office, day=PICKUP).used == 4
    assert Application.objects.filter(out_of_district=True).count() == 4


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_for_one_person_make_one(make_staff: Callable[..., StaffAccount]) -> None:
    clerk = make_staff(Role.OFFICE_CLERK).user
    person = make_person()
    results = _race(6, lambda i: do_submit_application(
        request_for(person), acting_user=clerk, registry=SimulatedRegistry(clock=Clock()), clock=Clock()))
    assert sum(isinstance(r, Application) for r in results) == 1, results
    assert all(getattr(r, "code", None) == C.OPEN_APPLICATION_EXISTS for r in results
               if not isinstance(r, Application)), results


# -- verification -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_then_batching_can_take_it(make_staff: Callable[..., StaffAccount]) -> None:
    clerk = make_staff(Role.OFFICE_CLERK).user
    registry = SimulatedRegistry(clock=Clock())
    application = do_submit_application(request_for(make_person()), acting_user=clerk, registry=registry,
                                        clock=Clock())
    verified = do_verify_application(application.pk, acting_user=clerk, registry=registry, clock=Clock())
    assert verified.status == Status.VERIFIED and verified.verified_by == clerk.staff_profile.staff_id
    with pytest.raises(ApplicationError) as caught:
        do_verify_application(application.pk, acting_user=clerk, registry=registry)
    assert caught.value.code == C.WRONG_STATE


@pytest.mark.django_db
def test_verification_rechecks_the_latest_registration(make_staff: Callable[..., StaffAccount]) -> None:
    clerk = make_staff(Role.OFFICE_CLERK).user
    registry = SimulatedRegistry(clock=Clock())
    person = make_person()
    application = do_submit_application(request_for(person), acting_user=clerk, registry=registry,
                                        clock=Clock())
    Person.objects.filter(pk=person.pk).update(status=PersonStatus.DEAD.value)
    with pytest.raises(ApplicationError) as caught:
        do_verify_application(application.pk, acting_user=clerk, registry=registry)
    assert caught.value.code == C.PERSON_DEAD
    assert Application.objects.get(pk=application.pk).status == Status.SUBMITTED


@pytest.mark.django_db
def test_other_offices_cannot_see_or_verify(make_staff: Callable[..., StaffAccount],
                                            other_office: Any) -> None:
    clerk = make_staff(Role.OFFICE_CLERK).user
    stranger = make_staff(Role.OFFICE_CLERK).user
    stranger.staff_profile.office = other_office
    stranger.staff_profile.save()
    application = do_submit_application(request_for(make_person()), acting_user=clerk,
                                        registry=SimulatedRegistry(), clock=Clock())
    with pytest.raises(NotFoundError) as caught:
        do_verify_application(application.pk, acting_user=stranger)
    assert caught.value.code is ErrorCode.NOT_FOUND


@pytest.mark.django_db
def test_verify_many_is_one_update_and_one_audit_entry(make_staff: Callable[..., StaffAccount],
                                                       django_assert_max_num_queries: Any) -> None:
    clerk = make_staff(Role.OFFICE_CLERK).user
    registry = SimulatedRegistry(clock=Clock())
    ids = [do_submit_application(request_for(make_person()), acting_user=clerk, registry=registry,
                                 clock=Clock()).pk for _ in range(5)]
    do_cancel_application(ids[0], acting_user=clerk)
    before = AuditEntry.objects.count()
    with django_assert_max_num_queries(12):
        assert do_verify_applications([*ids, 999_999], acting_user=clerk) == 4
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.extra == {"requested": 6, "verified": 4}
    assert set(Application.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Status.VERIFIED, Status.CANCELLED}
