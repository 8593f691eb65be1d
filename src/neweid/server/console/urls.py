from __future__ import annotations

from django.urls import path

from neweid.server.console import pages, views

app_name = "console"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("recalls/", pages.recalls_view, name="recalls"),
    path("audit/", pages.audit_view, name="audit"),
    path("staff/", pages.staff_view, name="staff"),
]
