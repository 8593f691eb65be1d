"""The household-registry backend setting (NEWEID_HOUSEHOLD_REGISTRY) and its one accessor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from neweid.server.applications import api as applications_api
from neweid.server.cards import api as cards_api
from neweid.server.operations import api as operations_api
from neweid.server.registry.simulated import SimulatedRegistry
from neweid.server.registry.wiring import household_registry

NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
made: list[dict[str, Any]] = []


class StubRegistry(SimulatedRegistry):
    """A registry from a deployment's own factory (here: the simulated one, remembering its calls)."""


def stub_factory(**kwargs: Any) -> StubRegistry:
    made.append(kwargs)
    return StubRegistry(**kwargs)


def test_default_is_the_simulated_registry(settings: Any) -> None:
    settings.NEWEID_HOUSEHOLD_REGISTRY = ""
    assert type(household_registry()) is SimulatedRegistry


def test_the_setting_names_the_factory(settings: Any) -> None:
    settings.NEWEID_HOUSEHOLD_REGISTRY = "tests.server.test_registry_wiring.stub_factory"
    made.clear()
    assert isinstance(household_registry(), StubRegistry)
    clock = lambda: NOW  # noqa: E731
    assert isinstance(household_registry(clock=clock), StubRegistry)
    assert made == [{}, {"clock": clock}]


@pytest.mark.parametrize("module", [applications_api, cards_api, operations_api])
def test_the_views_use_the_accessor(module: Any, settings: Any) -> None:
    settings.NEWEID_HOUSEHOLD_REGISTRY = "tests.server.test_registry_wiring.stub_factory"
    assert module.registry_factory is household_registry
    assert isinstance(module.registry_factory(), StubRegistry)
