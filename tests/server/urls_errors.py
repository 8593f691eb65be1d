"""The server's URLs plus views that fail, for the error-page tests."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from neweid.server import urls as server_urls


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internal detail /etc/passwd")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("internal reason")


urlpatterns = [path("boom/", boom), path("forbidden/", forbidden), *server_urls.urlpatterns]

handler400 = server_urls.handler400
handler403 = server_urls.handler403
handler404 = server_urls.handler404
handler500 = server_urls.handler500
