from __future__ import annotations

from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "neweid.server.exchange"
    label = "exchange"
    verbose_name = "New eID exchanges (MGMT-1)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The maker-checker action that activates a machine client, and the purge of the transfer area.
        from neweid.server.exchange import wiring

        wiring.register()
