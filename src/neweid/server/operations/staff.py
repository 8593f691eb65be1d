"""Who acts: the office of a staff member who operates cases."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from neweid.server.accounts.access import require
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Capability
from neweid.server.errors import AccessDeniedError


def staff_office(acting_user: Any, capability: Capability = Capability.OPERATE_CASES) -> Office:
    """The office of a staff member holding ``capability`` (AccessDeniedError without one)."""
    require(acting_user, capability)
    office: Office | None = acting_user.staff_profile.office
    if office is None:
        raise AccessDeniedError(_("This needs a staff member of an office."))
    return office
