"""Sets the audit context (actor and source address) for the duration of each request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from neweid.server.audit.context import acting, actor_id, client_ip


class AuditContextMiddleware:
    """Place after AuthenticationMiddleware and OTPMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        with acting(actor_id(user), client_ip(request)):
            return self.get_response(request)
