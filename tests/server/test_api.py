"""The API: OpenAPI schema, health, staff session auth with CSRF, {"code", "message"} errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from neweid.server.accounts.roles import Role
from tests.server.conftest import StaffAccount, sign_in

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_served(client: Client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/health", "/api/me"} <= set(schema["paths"])


def test_health(client: Client) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}


def test_me_requires_a_signed_in_staff_member(client: Client) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json() == {"code": "E401", "message": response.json()["message"]}
    assert response.json()["message"]


def test_me_after_sign_in(client: Client, make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_SUPERVISOR)
    sign_in(client, account)
    body = client.get("/api/me").json()
    assert body["staff_id"] == account.user.staff_profile.staff_id
    assert body["office"]["code"] == "6300500001"
    assert body["roles"] == ["office_supervisor"]
    assert "approve_requests" in body["capabilities"]


def test_unknown_api_path_shows_the_code(client: Client) -> None:
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert "E404" in response.content.decode()


def test_unexpected_api_error_shows_a_code_only(client: Client, make_staff: Callable[..., StaffAccount],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(client, make_staff(Role.OFFICE_CLERK))

    def broken(user: object) -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr("neweid.server.api.root.roles_of", broken)
    response = client.get("/api/me")
    assert response.status_code == 500
    assert response.json() == {"code": "E500", "message": response.json()["message"]}
    assert "passwd" not in response.content.decode()


def test_domain_error_maps_to_its_code(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    class Down:
        def cursor(self) -> None:
            raise OSError("connection refused to 10.1.2.3")

    monkeypatch.setattr("neweid.server.api.root.connection", Down())
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["code"] == "E503"
    assert "10.1.2.3" not in response.content.decode()
