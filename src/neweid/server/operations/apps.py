from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "neweid.server.operations"
    label = "operations"
    verbose_name = "New eID card operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The maker-checker actions of this app (voiding, chip updates, recalls).
        from neweid.server.operations import approvables

        approvables.register()
