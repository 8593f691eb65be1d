from __future__ import annotations

from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "neweid.server.cards"
    label = "cards"
    verbose_name = "New eID cards"
    default_auto_field = "django.db.models.BigAutoField"
