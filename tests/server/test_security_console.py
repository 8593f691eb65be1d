"""Security regression suite for the console pages: every URL pattern of the project (outside the API,
which test_security_api covers) sends anonymous users and staff without a verified OTP device to the
sign-in page, unless it is in ``PUBLIC``; pages that need a capability answer 403 to the exclusive roles
(auditor, role administrator) and other roles without it; error pages never show the server's insides.

The pages are read from the URL resolver, never listed by hand: a new page without protection fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from neweid.server.accounts.access import capabilities_of
from neweid.server.accounts.roles import Role
from neweid.server.console.menu import task_for_view
from tests.server.conftest import StaffAccount, sign_in

pytestmark = pytest.mark.django_db

# Pages anyone may open, each with its reason.
PUBLIC: dict[str, str] = {
    "console:login": "the sign-in page itself",
    "console:logout": "POST only; signing out needs no account",
    "set_language": "the language switch sets a cookie and redirects; it reads and shows nothing",
}
# Pages every signed-in staff member may open, whatever their roles.
ANY_STAFF: dict[str, str] = {
    "console:home": "the start page shows the member's own roles and their task menu",
}
API_PREFIX = "api/"  # the API's own suite checks it, operation by operation
LEAK = re.compile(r"Traceback|File \"|site-packages|\.py\b|/work/|/home/|/usr/|Exception|Error:")


@dataclass(frozen=True)
class Page:
    name: str  # "namespace:name"
    route: str
    url: str

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"


def _sample_url(route: str) -> str:
    samples = {"int": "1", "uuid": "00000000-0000-0000-0000-000000000000"}

    def value(match: re.Match[str]) -> str:
        return samples.get(match.group(1) or "str", "x")

    url = re.sub(r"<(?:(\w+):)?\w+>", value, route)
    assert "<" not in url and "^" not in url, f"cannot fill in {route}"
    return "/" + url


def _pages() -> list[Page]:
    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Page]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route == API_PREFIX:
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"unnamed URL pattern {route}: name it, so the tests can list it"
                yield Page(namespace + pattern.name, route, _sample_url(route))

    pages = list(walk(get_resolver().url_patterns, "", ""))
    names = [page.name for page in pages]
    assert len(names) == len(set(names)), "duplicate URL names"
    assert set(PUBLIC) | set(ANY_STAFF) <= set(names), "the allowlists name pages that do not exist"
    assert len(pages) >= 10, "the URL configuration lost its pages"
    return pages


def _protected() -> list[Page]:
    return [page for page in _pages() if page.name not in PUBLIC]


def _assert_clean(response: Any, what: str) -> None:
    text = response.content.decode("utf-8", "replace")
    assert not LEAK.search(text), f"{what}: the page shows the server's insides: {text[:300]}"


def _assert_to_sign_in(response: Any, what: str) -> None:
    assert response.status_code == 302, f"{what}: answered {response.status_code}, not the sign-in redirect"
    location = response["Location"]
    assert location.split("?")[0] == reverse("console:login"), f"{what}: to {location}"


def test_the_resolver_lists_the_console_pages() -> None:
    names = {page.name for page in _pages()}
    assert {"console:home", "console:audit", "console:staff", "applications:take", "applications:detail",
            "operations:report_loss", "cards:issue"} <= names


def test_anonymous_users_are_sent_to_sign_in(client: Client) -> None:
    for page in _protected():
        for method in ("get", "post"):
            response = getattr(client, method)(page.url)
            _assert_to_sign_in(response, f"anonymous {method.upper()} {page}")


def test_public_pages_show_nothing_of_the_staff_area(client: Client) -> None:
    login = client.get(reverse("console:login"))
    assert login.status_code == 200 and b"otp_token" in login.content
    assert client.get(reverse("console:logout")).status_code == 405  # POST only
    assert client.post(reverse("console:logout")).status_code == 302
    switched = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})
    assert switched.status_code == 302 and "evil.example" not in switched["Location"]  # no open redirect


def test_staff_without_a_verified_otp_device_are_sent_to_sign_in(
        client: Client, make_staff: Callable[..., StaffAccount]) -> None:
    client.force_login(make_staff(Role.OFFICE_SUPERVISOR).user)  # password only: no OTP step
    for page in _protected():
        for method in ("get", "post"):
            _assert_to_sign_in(getattr(client, method)(page.url), f"unverified {method.upper()} {page}")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ROLE_ADMIN, Role.COUNTY_OFFICER])
def test_pages_needing_a_capability_refuse_roles_without_it(
        client: Client, make_staff: Callable[..., StaffAccount], role: Role) -> None:
    account = make_staff(role)
    sign_in(client, account)
    granted = capabilities_of(account.user)
    refused = 0
    for page in _protected():
        task = task_for_view(page.name)
        allowed = page.name in ANY_STAFF or (task is not None and task.allowed(granted))
        for method in ("get", "post"):
            response = getattr(client, method)(page.url)
            what = f"{role.value} {method.upper()} {page}"
            if allowed:
                assert response.status_code in {200, 405}, f"{what}: answered {response.status_code}"
            else:  # a POST to a GET-only page may be refused for its method first
                expected = {403} if method == "get" else {403, 405}
                assert response.status_code in expected, f"{what}: answered {response.status_code}, not 403"
                refused += response.status_code == 403
            _assert_clean(response, what)
    assert refused >= 12  # the case pages at least, GET and POST


def test_office_staff_reach_their_pages(client: Client, make_staff: Callable[..., StaffAccount]) -> None:
    """The control for the refusals above: the capability is what decides."""
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    for name in ("applications:find_citizen", "applications:take", "operations:report_loss",
                 "operations:issue_temporary_certificate", "cards:receive", "cards:issue"):
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("console:audit")).status_code == 403


def test_error_pages_show_no_traceback_or_path(client: Client, make_staff: Callable[..., StaffAccount],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    responses = [client.get("/no-such-page/"), client.get("/applications/999999/"),
                 client.get(reverse("console:logout"))]
    strict = Client(enforce_csrf_checks=True)
    responses.append(strict.post(reverse("console:login"), {"username": "x", "password": "y",
                                                             "otp_token": "123456"}))
    assert [r.status_code for r in responses] == [404, 302, 405, 403]
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    responses += [client.get("/applications/999999/"),
                  client.get("/operations/temporary-certificates/999999/")]
    assert [r.status_code for r in responses[-2:]] == [404, 404]

    def broken(user: object) -> None:
        raise RuntimeError(f"boom in {__file__}")

    monkeypatch.setattr("neweid.server.console.views.menu_for", broken)
    crashing = Client(raise_request_exception=False)
    sign_in(crashing, make_staff(Role.OFFICE_CLERK))
    crashed = crashing.get(reverse("console:home"))
    assert crashed.status_code == 500
    responses.append(crashed)
    for response in responses:
        _assert_clean(response, f"{response.status_code} page")
        assert "boom" not in response.content.decode("utf-8", "replace")
