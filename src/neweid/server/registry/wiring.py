"""Which household registration system the management system talks to: the setting
``NEWEID_HOUSEHOLD_REGISTRY`` names a factory (dotted path) returning a
:class:`~neweid.server.registry.interface.HouseholdRegistry`; unset, the simulated one over this app's
tables. The factory is called without arguments, or with the keyword ``clock`` (a zero-argument callable
returning an aware datetime) when the caller has its own clock.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.utils.module_loading import import_string

from neweid.server.registry.interface import HouseholdRegistry

DEFAULT_FACTORY = "neweid.server.registry.simulated.SimulatedRegistry"
Clock = Callable[[], datetime.datetime]


def household_registry(*, clock: Clock | None = None) -> HouseholdRegistry:
    """A registry from the configured factory (``NEWEID_HOUSEHOLD_REGISTRY``, default the simulated one)."""
    path = getattr(settings, "NEWEID_HOUSEHOLD_REGISTRY", "") or DEFAULT_FACTORY
    factory = cast(Callable[..., HouseholdRegistry], import_string(path))
    return factory(clock=clock) if clock is not None else factory()
