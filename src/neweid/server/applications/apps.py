from __future__ import annotations

from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "neweid.server.applications"
    label = "applications"
    verbose_name = "New eID applications"
    default_auto_field = "django.db.models.BigAutoField"
