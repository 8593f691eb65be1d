"""The security settings SEC-1 asks for, as configured (and the dev secret key handling)."""

from __future__ import annotations

import datetime
import stat
from pathlib import Path

import pytest
from django.conf import settings

from neweid.server.settings import load_secret_key


def test_staff_sessions_expire_after_15_idle_minutes() -> None:
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True  # idle timeout, renewed by each request
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Strict"


def test_lockout_of_account_and_address_after_3_failures_for_30_minutes() -> None:
    assert settings.AXES_FAILURE_LIMIT == 3
    assert datetime.timedelta(minutes=30) == settings.AXES_COOLOFF_TIME
    # Two separate parameters: either one alone locks (account from any address; address for any account).
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


def test_middleware_order() -> None:
    middleware = settings.MIDDLEWARE
    assert middleware[-1] == "axes.middleware.AxesMiddleware"
    assert middleware.index("django.middleware.csrf.CsrfViewMiddleware") < middleware.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware") < middleware.index(
        "django_otp.middleware.OTPMiddleware")
    assert "django.middleware.locale.LocaleMiddleware" in middleware


def test_language_time_zone_and_debug_defaults() -> None:
    assert settings.LANGUAGE_CODE == "zh-hant"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hant", "en"]
    assert settings.TIME_ZONE == "Asia/Taipei"
    assert settings.USE_TZ is True
    assert settings.DEBUG is False
    assert "django.contrib.admin" not in settings.INSTALLED_APPS


def test_password_validators_configured() -> None:
    names = [v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert {"MinimumLengthValidator", "CharacterClassValidator", "PasswordHistoryValidator"} <= set(names)


def test_generated_secret_key_is_stored_privately_and_reused(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWEID_SECRET_KEY", raising=False)
    first = load_secret_key(tmp_path / "home")
    path = tmp_path / "home" / "secret_key"
    assert len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(tmp_path / "home") == first


def test_secret_key_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWEID_SECRET_KEY", "from-the-environment")
    assert load_secret_key(tmp_path) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
