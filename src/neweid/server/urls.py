"""URLs: the console at /, the API at /api/, the language switch at /i18n/."""

from __future__ import annotations

from django.urls import include, path

from neweid.server.api.root import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("applications/", include("neweid.server.applications.urls")),
    path("operations/", include("neweid.server.operations.urls")),
    path("cards/", include("neweid.server.cards.urls")),
    path("", include("neweid.server.console.urls")),
]

handler400 = "neweid.server.console.views.bad_request"
handler403 = "neweid.server.console.views.permission_denied"
handler404 = "neweid.server.console.views.page_not_found"
handler500 = "neweid.server.console.views.server_error"
