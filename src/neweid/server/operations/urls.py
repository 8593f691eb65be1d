"""Console URLs of the operations app; mounted at /operations/ by the project's URL configuration."""

from __future__ import annotations

from django.urls import path

from neweid.server.operations import views

app_name = "operations"

urlpatterns = [
    path("loss/", views.report_loss_view, name="report_loss"),
    path("temporary-certificates/", views.issue_temporary_certificate_view,
         name="issue_temporary_certificate"),
    path("temporary-certificates/<int:certificate_id>/", views.temporary_certificate_view,
         name="temporary_certificate"),
]
