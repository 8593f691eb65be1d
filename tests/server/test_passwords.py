"""Password policy: ≥12 characters, four classes, none of the last five (SEC-1)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from neweid.server.accounts.actions import do_change_password
from neweid.server.accounts.models import PasswordHistory
from neweid.server.audit.models import AuditEntry
from neweid.server.errors import ErrorCode, ValidationFailedError
from tests.server.conftest import STRONG_PASSWORD, StaffAccount


def _codes(password: str) -> set[str]:
    try:
        validate_password(password)
    except ValidationError as exc:
        return {e.code for e in exc.error_list if e.code}
    return set()


def test_strong_password_passes() -> None:
    assert _codes("Tw-eID-2026-ok") == set()


def test_too_short() -> None:
    assert "password_too_short" in _codes("Ab1!Ab1!Ab1")  # 11 characters


@pytest.mark.parametrize("password",
                         ["alllowercase-123", "ALLUPPERCASE-123", "NoDigitsHere-!!", "NoSymbols12345a"])
def test_each_character_class_required(password: str) -> None:
    assert "password_missing_character_class" in _codes(password)


@pytest.mark.django_db
def test_none_of_the_last_five(make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(None)
    user = account.user
    history = [STRONG_PASSWORD] + [f"Rotation-{n}-Pass!" for n in range(1, 6)]
    for old, new in itertools.pairwise(history):
        do_change_password(user, old, new)
    assert PasswordHistory.objects.filter(user=user).count() == 5
    # The last five (Rotation-1 .. Rotation-5, the current one included) are refused ...
    for recent in history[-5:]:
        with pytest.raises(ValidationFailedError):
            do_change_password(user, history[-1], recent)
    # ... the sixth-last is allowed again.
    do_change_password(user, history[-1], history[0])
    assert user.check_password(history[0])


@pytest.mark.django_db
def test_password_change_is_audited_without_the_password(make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(None)
    with pytest.raises(ValidationFailedError):
        do_change_password(account.user, account.password, "short")
    do_change_password(account.user, account.password, "Another-Good-1")
    entries = list(AuditEntry.objects.filter(function="accounts.change_password").order_by("seq"))
    assert [e.result for e in entries] == ["failure", "success"]
    assert entries[0].error_code == ErrorCode.VALIDATION.value
    assert all("Another-Good-1" not in str(e.extra) for e in entries)


@pytest.mark.django_db
def test_wrong_current_password_refused(make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(None)
    with pytest.raises(Exception) as raised:
        do_change_password(account.user, "Not-The-Password-1", "Another-Good-1")
    assert getattr(raised.value, "code", None) == ErrorCode.AUTH_FAILED
