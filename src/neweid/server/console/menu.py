"""The console's task menu: what each staff member may do, from their capabilities.

One table of tasks; each is shown when the user holds any of its capabilities. The pages themselves check
access again (the menu only spares people links that would answer 403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from neweid.server.accounts.access import capabilities_of
from neweid.server.accounts.roles import Capability

C = Capability


class TaskGroup(StrEnum):
    CASES = "cases"  # counter work of an office
    CARDS = "cards"  # cards arriving at the office and going to citizens
    OVERSIGHT = "oversight"  # statistics (office, city/county, national) and recalls
    AUDIT = "audit"
    ACCOUNTS = "accounts"


GROUP_LABELS: dict[TaskGroup, Promise] = {
    TaskGroup.CASES: _("Applications and cases"),
    TaskGroup.CARDS: _("Cards at the office"),
    TaskGroup.OVERSIGHT: _("Statistics and supervision"),
    TaskGroup.AUDIT: _("Audit"),
    TaskGroup.ACCOUNTS: _("Staff accounts"),
}


def _statistics_url() -> str:
    """Today's figures in the user's scope (the API's JSON; there is no console page for them yet)."""
    return f"{reverse('api:daily')}?first_day={timezone.localdate().isoformat()}"


@dataclass(frozen=True)
class Task:
    key: str
    group: TaskGroup
    label: Promise
    description: Promise
    target: str | Callable[[], str]  # a console view's name ("app:name"), or what gives the URL
    capabilities: frozenset[Capability]  # any one of them shows the task (and opens its page)

    def allowed(self, granted: frozenset[Capability]) -> bool:
        return bool(self.capabilities & granted)

    @property
    def view_name(self) -> str | None:
        return self.target if isinstance(self.target, str) else None

    def url(self) -> str:
        return reverse(self.target) if isinstance(self.target, str) else self.target()


CASES = frozenset({C.OPERATE_CASES})
OVERSIGHT = frozenset({C.VIEW_COUNTY_REPORTS, C.VIEW_NATIONAL_REPORTS})
REPORTS = OVERSIGHT | {C.VIEW_OFFICE_REPORTS}  # the statistics API scopes them: office, county, nation

TASKS: tuple[Task, ...] = (
    Task("find_citizen", TaskGroup.CASES, _("Find a citizen"),
         _("Look up a person on the household register and their applications."),
         "applications:find_citizen", CASES),
    Task("new_application", TaskGroup.CASES, _("New application"),
         _("Take an application for a first issuance, reissue or replacement."),
         "applications:take", CASES),
    Task("report_loss", TaskGroup.CASES, _("Loss reports"),
         _("Report a card lost, or revoke a loss report."), "operations:report_loss", CASES),
    Task("temporary_certificates", TaskGroup.CASES, _("Temporary certificates"),
         _("Issue a temporary identity certificate while the new card is made."),
         "operations:issue_temporary_certificate", CASES),
    Task("receive_cards", TaskGroup.CARDS, _("Receive and check cards"),
         _("Count in the cards from the card production centre, check them, notify the citizens."),
         "cards:receive", CASES),
    Task("issue_card", TaskGroup.CARDS, _("Issue a card"),
         _("Hand a card to the citizen and print the pickup confirmation."), "cards:issue", CASES),
    Task("statistics", TaskGroup.OVERSIGHT, _("Daily statistics"),
         _("Applications and card state changes per day and office (API, JSON)."),
         _statistics_url, REPORTS),
    Task("recalls", TaskGroup.OVERSIGHT, _("Recalls"),
         _("Card recalls and how many cards each concerns."), "console:recalls", OVERSIGHT),
    Task("audit", TaskGroup.AUDIT, _("Audit chain"),
         _("Check the hash chain of the audit log and see the latest entries."),
         "console:audit", frozenset({C.VIEW_AUDIT})),
    Task("staff", TaskGroup.ACCOUNTS, _("Staff list"),
         _("Staff accounts, their offices and roles."), "console:staff",
         frozenset({C.ASSIGN_ROLES})),
)


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: str
    description: str
    url: str


@dataclass(frozen=True)
class MenuGroup:
    key: str
    label: str
    entries: tuple[MenuEntry, ...]


def tasks_for(granted: frozenset[Capability]) -> tuple[Task, ...]:
    return tuple(task for task in TASKS if task.allowed(granted))


def menu_for(user: Any) -> tuple[MenuGroup, ...]:
    """The user's tasks, grouped in the table's order (empty for anyone who is not signed-in staff)."""
    if getattr(user, "staff_profile", None) is None:
        return ()
    granted = capabilities_of(user)
    entries: dict[TaskGroup, list[MenuEntry]] = {}
    for task in tasks_for(granted):
        try:
            url = task.url()
        except NoReverseMatch:  # a URL configuration without that app (some tests mount only part)
            continue
        entries.setdefault(task.group, []).append(MenuEntry(task.key, str(task.label), str(task.description),
                                                            url))
    return tuple(MenuGroup(group.value, str(GROUP_LABELS[group]), tuple(entries[group]))
                 for group in TaskGroup if group in entries)


def task_for_view(view_name: str) -> Task | None:
    """The menu task whose page is the view ``view_name`` ("app:name"), if any."""
    return _TASKS_BY_VIEW.get(view_name)


_TASKS_BY_VIEW = {task.view_name: task for task in TASKS if task.view_name is not None}
