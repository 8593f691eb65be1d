"""Staff sign-in: password (through django-axes' lockout) and a TOTP code from a confirmed device.

Which factor failed is not told apart (one generic failure); a wrong TOTP code counts as a failed
attempt for the lockout, like a wrong password.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate, login
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login  # type: ignore[import-untyped]
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from neweid.server.errors import AccessDeniedError, ErrorCode


class SignInFailedError(AccessDeniedError):
    code = ErrorCode.AUTH_FAILED
    http_status = 401
    default_message = _("The user name, password or verification code is not correct.")


class LockedOutError(AccessDeniedError):
    code = ErrorCode.AUTH_LOCKED
    http_status = 403
    default_message = _("Too many failed attempts: sign-in is locked for 30 minutes.")


def _locked(request: HttpRequest) -> bool:
    return bool(getattr(request, "axes_locked_out", False))


def _totp_device(user: Any, token: str) -> Any:
    if not token.isdigit():
        return None
    for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


def sign_in_staff(request: HttpRequest, username: str, password: str, token: str) -> Any:
    """Authenticate, check the TOTP code, start the session (new session key) and mark it OTP-verified."""
    user = authenticate(request, username=username, password=password)
    if _locked(request):
        raise LockedOutError()
    if user is None:
        raise SignInFailedError()
    device = _totp_device(user, token.strip()) if getattr(user, "staff_profile", None) is not None else None
    if device is None:
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
        if _locked(request):
            raise LockedOutError()
        raise SignInFailedError()
    login(request, user)
    otp_login(request, device)
    return user


@dataclass(frozen=True)
class TOTPEnrolment:
    secret_base32: str
    uri: str


def enrol_totp(user: Any, *, name: str = "default", confirmed: bool = True) -> TOTPEnrolment:
    """A new TOTP device for ``user`` (the demo confirms it at once; a later issue adds self-enrolment)."""
    key = secrets.token_bytes(20)
    device = TOTPDevice.objects.create(user=user, name=name, key=key.hex(), confirmed=confirmed)
    return TOTPEnrolment(base64.b32encode(key).decode("ascii").rstrip("="), str(device.config_url))
