"""Applications for a New eID (MGMT-2..5, MGMT-9, CARD-10, CARD-11): notification schedules and letters,
out-of-district pickup quotas, the applicant rules, photo checks, fees and the renewal date.

Writes are the ``do_*`` actions of :mod:`~neweid.server.applications.actions` and
:mod:`~neweid.server.applications.notification`; the rules themselves are pure functions over registry
snapshots in :mod:`~neweid.server.applications.rules`. Import the submodules directly; this package
imports nothing so that Django can load the app.
"""
