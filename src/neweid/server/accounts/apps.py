from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "neweid.server.accounts"
    label = "accounts"
    verbose_name = "Offices and staff"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from neweid.server.accounts.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="neweid.accounts.sync_roles")
