"""The server's error hierarchy: every domain error carries a short, stable code that users see.

Views and the API turn a :class:`ServerError` into ``{"code": ..., "message": ...}`` (or an error page
showing the code); nothing else about the failure leaves the server.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    """Short codes shown to users and written to the audit log."""

    BAD_REQUEST = "E400"
    AUTH_REQUIRED = "E401"
    FORBIDDEN = "E403"
    NOT_FOUND = "E404"
    CONFLICT = "E409"
    VALIDATION = "E422"
    INTERNAL = "E500"
    UNAVAILABLE = "E503"
    AUTH_FAILED = "A001"
    AUTH_LOCKED = "A002"
    OTP_REQUIRED = "A003"
    CSRF_FAILED = "A004"
    SEPARATION_OF_DUTIES = "A010"
    SAME_PERSON = "A011"
    APPROVAL_NOT_PENDING = "A012"
    UNKNOWN_ACTION = "A013"
    AUDIT_APPEND_ONLY = "L001"


class ServerError(Exception):
    """Base of the server's domain errors; subclasses fix the code and HTTP status. ``code`` is a member of
    :class:`ErrorCode` or of an app's own code enum (every code enum is a StrEnum of short codes)."""

    code: StrEnum = ErrorCode.INTERNAL
    http_status: int = 500
    default_message: str | Promise = _("Internal error.")

    def __init__(self, message: str | Promise | None = None, *, code: StrEnum | None = None) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        super().__init__(str(self.message))


class BadRequestError(ServerError, ValueError):
    code: StrEnum = ErrorCode.BAD_REQUEST
    http_status = 400
    default_message = _("The request is not valid.")


class ValidationFailedError(ServerError, ValueError):
    code: StrEnum = ErrorCode.VALIDATION
    http_status = 422
    default_message = _("The data is not valid.")


class AccessDeniedError(ServerError):
    """Missing permission; also used for objects the actor may not see (missing and forbidden alike)."""

    code: StrEnum = ErrorCode.FORBIDDEN
    http_status = 403
    default_message = _("You are not allowed to do this.")


class NotFoundError(ServerError):
    code: StrEnum = ErrorCode.NOT_FOUND
    http_status = 404
    default_message = _("Not found.")


class ConflictError(ServerError):
    code: StrEnum = ErrorCode.CONFLICT
    http_status = 409
    default_message = _("The request conflicts with the current state.")


class UnavailableError(ServerError):
    code: StrEnum = ErrorCode.UNAVAILABLE
    http_status = 503
    default_message = _("A service the system depends on is not available.")
