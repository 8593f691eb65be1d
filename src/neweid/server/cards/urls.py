"""Console URLs of the cards app; to be mounted at /cards/ by the project's URL configuration."""

from __future__ import annotations

from django.urls import path

from neweid.server.cards import views

app_name = "cards"

urlpatterns = [
    path("receive/", views.receive_view, name="receive"),
    path("issue/", views.issue_view, name="issue"),
]
