"""Mapping of errors to API responses: ``{"code": "E404", "message": "..."}``, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from neweid.server.errors import ErrorCode, ServerError

logger = logging.getLogger(__name__)


class ErrorOut(Schema):
    code: str
    message: str


def error_response(api: NinjaAPI, request: HttpRequest, code: ErrorCode | str, message: str,
                   status: int) -> HttpResponse:
    return api.create_response(request, {"code": str(code), "message": message}, status=status)


_HTTP_CODES = {400: ErrorCode.BAD_REQUEST, 401: ErrorCode.AUTH_REQUIRED, 403: ErrorCode.FORBIDDEN,
               404: ErrorCode.NOT_FOUND, 409: ErrorCode.CONFLICT, 422: ErrorCode.VALIDATION}


def install_error_handlers(api: NinjaAPI) -> None:
    def on_server_error(request: HttpRequest, exc: Any) -> HttpResponse:
        assert isinstance(exc, ServerError)
        return error_response(api, request, exc.code, str(exc.message), exc.http_status)

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(api, request, ErrorCode.VALIDATION, _("The data is not valid."), 422)

    def on_authentication(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(api, request, ErrorCode.AUTH_REQUIRED, _("Please sign in."), 401)

    def on_authorization(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(api, request, ErrorCode.FORBIDDEN, _("You are not allowed to do this."), 403)

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        assert isinstance(exc, HttpError)
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
        return error_response(api, request, code, str(exc.message), exc.status_code)

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(api, request, ErrorCode.NOT_FOUND, _("Not found."), 404)

    def on_unexpected(request: HttpRequest, exc: Any) -> HttpResponse:
        logger.exception("unexpected error in the API")
        return error_response(api, request, ErrorCode.INTERNAL, _("Internal error."), 500)

    api.add_exception_handler(ServerError, on_server_error)
    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(AuthenticationError, on_authentication)
    api.add_exception_handler(AuthorizationError, on_authorization)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(Exception, on_unexpected)
