"""The console's role-aware task menu: which links each role sees, and that they lead to pages the role may
open (and that other roles may not)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from neweid.server.accounts.roles import OFFICE_ROLES, Role
from neweid.server.console.menu import TASKS
from tests.server.conftest import StaffAccount, sign_in

pytestmark = pytest.mark.django_db

CASE_TASKS = {"find_citizen", "new_application", "report_loss", "temporary_certificates", "receive_cards",
              "issue_card"}
EXPECTED: dict[Role, set[str]] = {
    Role.OFFICE_CLERK: CASE_TASKS | {"statistics"},
    Role.OFFICE_SUPERVISOR: CASE_TASKS | {"statistics"},
    Role.COUNTY_OFFICER: {"statistics", "recalls"},
    Role.MOI_ADMIN: {"statistics", "recalls"},
    Role.AUDITOR: {"audit"},
    Role.ROLE_ADMIN: {"staff"},
}
TASK_LINK = re.compile(r'<a href="([^"]+)" data-task="([a-z_]+)">')


def _signed_in(client: Client, make_staff: Callable[..., StaffAccount], role: Role) -> Client:
    # A city/county officer works for the county of their office (statistics are scoped by it).
    response = sign_in(client, make_staff(role, with_office=role in OFFICE_ROLES | {Role.COUNTY_OFFICER}))
    assert response.status_code == 302
    return client


def _links(html: str, region: str) -> dict[str, str]:
    start = html.index(region)
    part = html[start:html.index("</nav>" if region.startswith("<nav") else "</main>", start)]
    return {key: url.replace("&amp;", "&") for url, key in TASK_LINK.findall(part)}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_tasks_in_the_menu_and_on_the_home_page(
        client: Client, make_staff: Callable[..., StaffAccount], role: Role) -> None:
    html = _signed_in(client, make_staff, role).get("/").content.decode()
    menu = _links(html, '<nav class="menu"')
    assert set(menu) == EXPECTED[role]
    assert _links(html, '<main id="main">') == menu


def test_the_menu_is_not_shown_before_sign_in(client: Client) -> None:
    html = client.get("/login/").content.decode()
    assert 'class="menu"' not in html
    assert "data-task" not in html


def test_every_task_is_expected_for_some_role() -> None:
    assert {task.key for task in TASKS} == set().union(*EXPECTED.values())


@pytest.mark.parametrize("role", list(Role))
def test_every_menu_link_opens_for_the_role(client: Client, make_staff: Callable[..., StaffAccount],
                                            role: Role) -> None:
    signed_in = _signed_in(client, make_staff, role)
    links = _links(signed_in.get("/").content.decode(), '<nav class="menu"')
    for key, url in links.items():
        response = signed_in.get(url)
        assert response.status_code == 200, (role, key, url, response.status_code)


@pytest.mark.parametrize("role", list(Role))
def test_pages_of_other_roles_tasks_are_forbidden(client: Client, make_staff: Callable[..., StaffAccount],
                                                  role: Role) -> None:
    signed_in = _signed_in(client, make_staff, role)
    for task in TASKS:
        if task.key in EXPECTED[role]:
            continue
        response = signed_in.get(task.url())
        assert response.status_code == 403, (role, task.key, response.status_code)


@pytest.mark.parametrize(("role", "code"), [(Role.AUDITOR, "A010"), (Role.ROLE_ADMIN, "A010"),
                                            (Role.MOI_ADMIN, "E403")])
def test_case_pages_refuse_with_the_domain_code(client: Client, make_staff: Callable[..., StaffAccount],
                                                role: Role, code: str) -> None:
    html = _signed_in(client, make_staff, role).get("/applications/find/").content.decode()
    assert f'<span class="code">{code}</span>' in html


def test_pages_need_a_signed_in_staff_member(client: Client) -> None:
    for task in TASKS:
        if task.view_name is None:
            continue
        response = client.get(task.url())
        assert response.status_code == 302
        assert response["Location"] == "/login/"


def test_menu_labels_are_translated(client: Client, make_staff: Callable[..., StaffAccount]) -> None:
    signed_in = _signed_in(client, make_staff, Role.OFFICE_CLERK)
    html = signed_in.get("/").content.decode()
    for label in ("查詢民眾資料", "受理申請", "掛失", "臨時證明書", "點收及檢查卡片", "發證"):
        assert label in html
    english = signed_in.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Receive and check cards" in english
