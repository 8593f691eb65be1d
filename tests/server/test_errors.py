"""Users see short error codes, never tracebacks (SEC-1)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls_errors")]


def _assert_no_internals(html: str) -> None:
    for leak in ("Traceback", "passwd", "RuntimeError", "internal reason", "File \"", "settings"):
        assert leak not in html


def test_404_shows_a_code() -> None:
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "E404" in html
    _assert_no_internals(html)


def test_500_shows_a_code_and_no_traceback() -> None:
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "E500" in html
    _assert_no_internals(html)


def test_403_shows_a_code() -> None:
    response = Client().get("/forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "E403" in html
    _assert_no_internals(html)


def test_csrf_failure_shows_a_code() -> None:
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "x"})
    assert response.status_code == 403
    assert "A004" in response.content.decode()
