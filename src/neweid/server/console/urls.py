from __future__ import annotations

from django.urls import path

from neweid.server.console import views

app_name = "console"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
]
