"""Read-only console pages reached from the task menu: recalls, the audit chain, the staff list.

Each page checks the capability itself (the menu only hides links) and shows no personal data of
citizens: recalls are counted in cards, audit entries are shown without object IDs, client addresses or
extra data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from neweid.server.accounts.access import capabilities_of
from neweid.server.accounts.roles import ROLE_LABELS, Capability, Role
from neweid.server.audit.models import AuditEntry, AuditResult
from neweid.server.audit.verify import BreakReason, verify_chain
from neweid.server.console.menu import OVERSIGHT
from neweid.server.console.views import error_page, staff_required
from neweid.server.errors import AccessDeniedError
from neweid.server.operations.models import Recall, RecallRemedy, RecallStatus

LATEST_AUDIT_ENTRIES = 20
MAX_RECALLS = 200
MAX_STAFF = 1000

RECALL_STATUS_LABELS: dict[str, Promise] = {
    RecallStatus.PENDING: gettext_lazy("Waiting for approval"),
    RecallStatus.ACTIVE: gettext_lazy("In progress"),
    RecallStatus.REJECTED: gettext_lazy("Rejected"),
    RecallStatus.CLOSED: gettext_lazy("Closed"),
}
RECALL_REMEDY_LABELS: dict[str, Promise] = {
    RecallRemedy.FIRMWARE_UPDATE: gettext_lazy("Firmware update"),
    RecallRemedy.REPLACEMENT: gettext_lazy("Replacement with a new card"),
}
AUDIT_RESULT_LABELS: dict[str, Promise] = {
    AuditResult.SUCCESS: gettext_lazy("Success"),
    AuditResult.FAILURE: gettext_lazy("Refused"),
    AuditResult.DENIED: gettext_lazy("Access denied"),
    AuditResult.ERROR: gettext_lazy("Error"),
}
BREAK_LABELS: dict[BreakReason, Promise] = {
    BreakReason.ALTERED: gettext_lazy("An entry was altered"),
    BreakReason.REMOVED: gettext_lazy("Entries were removed"),
    BreakReason.REORDERED: gettext_lazy("Entries were reordered"),
}


def _denied(request: HttpRequest) -> HttpResponse:
    exc = AccessDeniedError()
    return error_page(request, exc.code, str(exc.message), exc.http_status)


def _allowed(user: Any, capabilities: frozenset[Capability]) -> bool:
    return bool(capabilities_of(user) & capabilities)


def _zh(request: HttpRequest) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "zh-hant").lower().startswith("zh")


@dataclass(frozen=True)
class RecallRow:
    id: int
    title: str
    status: str
    remedy: str
    cards: int
    requested_at: Any
    closed_at: Any


@staff_required
@require_GET
def recalls_view(request: HttpRequest) -> HttpResponse:
    """The recalls (MGMT-14), newest first, for city/county and national staff."""
    if not _allowed(request.user, OVERSIGHT):
        return _denied(request)
    rows = [RecallRow(r.pk, r.title, str(RECALL_STATUS_LABELS.get(r.status, r.status)),
                      str(RECALL_REMEDY_LABELS.get(r.remedy, r.remedy)), r.card_count, r.requested_at,
                      r.closed_at)
            for r in Recall.objects.order_by("-requested_at", "-id")[:MAX_RECALLS]]
    return render(request, "console/recalls.html", {"recalls": rows})


@dataclass(frozen=True)
class AuditRow:
    seq: int
    time: Any
    actor: str
    function: str
    object_type: str
    result: str
    error_code: str
    hash_prefix: str


@staff_required
@require_GET
def audit_view(request: HttpRequest) -> HttpResponse:
    """The audit chain's verification and its latest entries (auditors only)."""
    if not _allowed(request.user, frozenset({Capability.VIEW_AUDIT})):
        return _denied(request)
    verification = verify_chain()
    entries = [AuditRow(e.seq, e.time, e.actor, e.function, e.object_type,
                        str(AUDIT_RESULT_LABELS.get(e.result, e.result)), e.error_code, e.hash[:16])
               for e in AuditEntry.objects.only("seq", "time", "actor", "function", "object_type", "result",
                                                "error_code", "hash").order_by("-seq")[:LATEST_AUDIT_ENTRIES]]
    broken = verification.broken
    response = render(request, "console/audit.html", {
        "verification": verification,
        "break_label": str(BREAK_LABELS[broken.reason]) if broken is not None else "",
        "entries": entries,
    })
    response["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class StaffRow:
    staff_id: str
    username: str
    office: str
    roles: str
    active: bool


@staff_required
@require_GET
def staff_view(request: HttpRequest) -> HttpResponse:
    """Staff accounts with their office and roles (role administrators only)."""
    if not _allowed(request.user, frozenset({Capability.ASSIGN_ROLES})):
        return _denied(request)
    label = 0 if _zh(request) else 1
    users = (get_user_model().objects.filter(staff_profile__isnull=False)
             .select_related("staff_profile__office").prefetch_related("groups")
             .order_by("staff_profile__staff_id")[:MAX_STAFF])
    rows = []
    for user in users:
        profile = user.staff_profile
        names = {group.name for group in user.groups.all()}
        roles = [ROLE_LABELS[role][label] for role in Role if role.value in names]
        rows.append(StaffRow(profile.staff_id, user.get_username(),
                             profile.office.code if profile.office is not None else "",
                             ", ".join(roles) or _("None"), user.is_active))
    return render(request, "console/staff.html", {"staff": rows})
