from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "neweid.server.registry"
    label = "registry"
    verbose_name = "Household registration (simulated)"
    default_auto_field = "django.db.models.BigAutoField"
