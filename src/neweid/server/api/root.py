"""The API root: /api/ (OpenAPI schema at /api/openapi.json, docs at /api/docs)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest
from ninja import NinjaAPI, Schema

from neweid import __version__
from neweid.server.accounts.access import capabilities_of, roles_of
from neweid.server.api.auth import staff_auth
from neweid.server.api.errors import ErrorOut, install_error_handlers
from neweid.server.audit.context import actor_id
from neweid.server.errors import UnavailableError

api = NinjaAPI(
    title="neweid management system API",
    version=__version__,
    description="Office operations and exchanges of the New eID management system. Errors are "
                '{"code": "...", "message": "..."} with a short code.',
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)


class HealthOut(Schema):
    status: str
    version: str
    database: str


class OfficeOut(Schema):
    code: str
    name_zh: str
    name_en: str
    county_code: str
    township_code: str


class StaffOut(Schema):
    staff_id: str
    office: OfficeOut | None
    roles: list[str]
    capabilities: list[str]


@api.get("/health", response={200: HealthOut, 503: ErrorOut}, tags=["system"],
         summary="Liveness and database")
def health(request: HttpRequest) -> HealthOut:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        raise UnavailableError() from exc
    return HealthOut(status="ok", version=__version__, database=connection.vendor)


@api.get("/me", response={200: StaffOut, 401: ErrorOut}, auth=staff_auth, tags=["staff"],
         summary="The signed-in staff member")
def me(request: HttpRequest) -> StaffOut:
    user = request.user
    profile = user.staff_profile  # type: ignore[union-attr]
    office = profile.office
    return StaffOut(
        staff_id=actor_id(user),
        office=OfficeOut(code=office.code, name_zh=office.name_zh, name_en=office.name_en,
                         county_code=office.county_code, township_code=office.township_code)
        if office is not None else None,
        roles=sorted(r.value for r in roles_of(user)),
        capabilities=sorted(c.value for c in capabilities_of(user)),
    )

api.add_router("/applications/", "neweid.server.applications.api.router")
api.add_router("/loss/", "neweid.server.operations.api.loss_router")
api.add_router("/temporary-certificates/", "neweid.server.operations.api.temporary_router")
api.add_router("/chip-updates/", "neweid.server.operations.api.chip_updates_router")
api.add_router("/voiding/", "neweid.server.operations.api.voiding_router")
api.add_router("/recalls/", "neweid.server.operations.api.recalls_router")
api.add_router("/statistics/", "neweid.server.operations.api.statistics_router")
api.add_router("/cards/", "neweid.server.cards.api.router")
api.add_router("/exchange/", "neweid.server.exchange.api.router")
