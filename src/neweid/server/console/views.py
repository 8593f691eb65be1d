"""Console views: thin (validate the form, call one service, render)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from neweid.server.accounts.access import capabilities_of, roles_of
from neweid.server.accounts.authn import sign_in_staff
from neweid.server.accounts.roles import CASE_CAPABILITIES, EXCLUSIVE_ROLES, ROLE_LABELS
from neweid.server.audit.context import actor_id
from neweid.server.console.forms import SignInForm
from neweid.server.console.menu import menu_for, task_for_view
from neweid.server.errors import AccessDeniedError, ErrorCode, ServerError

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def error_page(request: HttpRequest, code: StrEnum, message: str, status: int) -> HttpResponse:
    """The one error page: a short code and a sentence, nothing about the server's insides."""
    try:
        return render(request, "console/error.html", {"code": code.value, "message": message}, status=status)
    except Exception:  # the page of last resort must not fail
        logger.exception("error page failed to render")
        return HttpResponse(f"Error {code.value}", status=status, content_type="text/plain; charset=utf-8")


def staff_required(view: View) -> View:
    """Signed in, OTP-verified and a staff member; otherwise to the sign-in page. A page of the task menu
    also needs the task's capability (403 otherwise, as the actions behind it answer)."""
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        verified = getattr(user, "is_verified", None)
        if (not user.is_authenticated or verified is None or not verified()
                or getattr(user, "staff_profile", None) is None):
            return HttpResponseRedirect(reverse("console:login"))
        match = request.resolver_match
        task = task_for_view(match.view_name) if match is not None else None
        if task is not None and not task.allowed(capabilities_of(user)):
            code = (ErrorCode.SEPARATION_OF_DUTIES if task.capabilities & CASE_CAPABILITIES
                    and roles_of(user) & EXCLUSIVE_ROLES else ErrorCode.FORBIDDEN)
            return error_page(request, code, str(AccessDeniedError.default_message), 403)
        return view(request, *args, **kwargs)
    return wrapper


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    error: ServerError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            sign_in_staff(request, form.cleaned_data["username"], form.cleaned_data["password"],
                          form.cleaned_data["otp_token"])
        except ServerError as exc:
            error = exc
        else:
            return redirect("console:home")
    status = error.http_status if error is not None else (400 if form.errors else 200)
    return render(request, "console/login.html", {"form": form, "error": error}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("console:login")


@staff_required
def home_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    profile = user.staff_profile  # type: ignore[union-attr]
    language = (request.LANGUAGE_CODE or "zh-hant").lower()
    labels = [ROLE_LABELS[role][0 if language.startswith("zh") else 1] for role in sorted(roles_of(user))]
    return render(request, "console/home.html", {"staff_id": actor_id(user), "office": profile.office,
                                                 "roles": labels, "menu": menu_for(user)})


def lockout(request: HttpRequest, original_response: HttpResponse | None = None,
            credentials: dict[str, Any] | None = None) -> HttpResponse:
    """django-axes' lockout response (AXES_LOCKOUT_CALLABLE)."""
    return error_page(request, ErrorCode.AUTH_LOCKED,
                      _("Too many failed attempts: sign-in is locked for 30 minutes."), 403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(request, ErrorCode.CSRF_FAILED, _("The form has expired. Please reload the page."), 403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, ErrorCode.BAD_REQUEST, _("The request is not valid."), 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, ErrorCode.FORBIDDEN, _("You are not allowed to do this."), 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, ErrorCode.NOT_FOUND, _("Not found."), 404)


def server_error(request: HttpRequest) -> HttpResponse:
    html: str
    try:
        html = render_to_string("console/error.html", {"code": ErrorCode.INTERNAL.value,
                                                       "message": _("Internal error.")})
    except Exception:
        html = f"Error {ErrorCode.INTERNAL.value}"
    return HttpResponse(html, status=500)
