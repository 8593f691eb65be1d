from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "neweid.server.audit"
    label = "audit"
    verbose_name = "Audit log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from neweid.server.audit import signals

        signals.connect()
