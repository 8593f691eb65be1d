"""Console URLs of the applications app; mounted at /applications/ by the project's URL configuration."""

from __future__ import annotations

from django.urls import path

from neweid.server.applications import views

app_name = "applications"

urlpatterns = [
    path("find/", views.find_citizen_view, name="find_citizen"),
    path("new/", views.take_application_view, name="take"),
    path("<int:application_id>/", views.application_detail_view, name="detail"),
]
