"""The simulated household registration system (戶役政): households, people and their civil events.

The management system sees it only through :class:`~neweid.server.registry.interface.HouseholdRegistry`
(lookups return frozen snapshots, never models; changes go through ``apply``); the simulated implementation
:class:`~neweid.server.registry.simulated.SimulatedRegistry` is backed by this app's models and can be told to
fail like the real external system. ``neweid population generate`` fills it with a synthetic population
(:mod:`~neweid.server.registry.synthesis` draws it, :mod:`~neweid.server.registry.loader` writes it
set-based).

Import the submodules directly; this package imports nothing so that Django can load the app.
"""
