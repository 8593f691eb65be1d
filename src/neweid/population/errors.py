"""Errors of the synthetic-population generator."""

from __future__ import annotations


class PopulationError(ValueError):
    """Bad input to the synthetic-population generator (an impossible age, an unknown county...)."""


class ReferenceDataError(PopulationError):
    """A reference data file in ``neweid/data`` is missing, malformed or inconsistent."""
