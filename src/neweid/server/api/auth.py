"""API authentication: the console's session (CSRF-checked), for staff who passed the TOTP step."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import SessionAuth


class StaffSessionAuth(SessionAuth):
    """Signed-in staff with an OTP-verified session; token auth for machine clients comes later."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None or getattr(user, "staff_profile", None) is None:
            return None
        is_verified = getattr(user, "is_verified", None)
        if is_verified is None or not is_verified():
            return None
        return user


staff_auth = StaffSessionAuth()
