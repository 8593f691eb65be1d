"""Errors of the household registration interface, in the server's hierarchy (short codes for users).

Messages never contain personal data (ID numbers, names): they may reach logs and the audit trail.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from neweid.server.errors import (
    ConflictError,
    NotFoundError,
    ServerError,
    UnavailableError,
    ValidationFailedError,
)


class RegistryError(ServerError):
    """Base of the errors of the household registration interface (code and status from the second base)."""


class RegistryUnavailableError(RegistryError, UnavailableError):
    """The registration system did not answer (outage, timeout); the caller may retry later."""

    default_message = _("The household registration system is not available.")


class PersonNotFoundError(RegistryError, NotFoundError):
    """No person with this ID number is on the register."""

    default_message = _("No person with this ID number is on the household register.")


class HouseholdNotFoundError(RegistryError, NotFoundError):
    """No household with this number is on the register."""

    default_message = _("No household with this number is on the household register.")


class InvalidChangeError(RegistryError, ValidationFailedError):
    """A change that is malformed (bad ID number, unknown village, a date in the future...)."""

    default_message = _("The household registration change is not valid.")


class ChangeConflictError(RegistryError, ConflictError):
    """A well-formed change the people's current state forbids (marrying a married person, a dead
    person moving...)."""

    default_message = _("The household registration change conflicts with the register.")

