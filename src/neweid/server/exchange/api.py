"""The exchange API (/api/exchange/...) for machine clients (MGMT-1; formats in docs/exchange-formats.md).

* ``/registry/...`` — the household registration system: the per-office lists of a day, and its change
  notifications (followed up once stored: :mod:`neweid.server.exchange.followup`).
* ``/production/...`` — the production centre: batches waiting, the production package of a batch, the
  pre-produced blank chips with their CSRs, and status replies (defects included).

Authentication: ``Authorization: Bearer <token>`` of a registered system, scoped to one of the two sides
(:mod:`neweid.server.exchange.systems`); staff sessions are not accepted. Files travel as JSON Lines
(``application/x-ndjson``); errors are ``{"code", "message"}``. Every call is audited with the system as
actor; refused tokens too.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from ninja import Router, Schema
from ninja.security import HttpBearer

from neweid.server.api.errors import ErrorOut
from neweid.server.audit.log import audited_action
from neweid.server.cards.models import BatchStatus, ProductionBatch
from neweid.server.exchange.centre import package_stream
from neweid.server.exchange.errors import ExchangeFileError
from neweid.server.exchange.fileformat import ExchangeFile, FileType, decode_file
from neweid.server.exchange.followup import process_after_receipt
from neweid.server.exchange.inbound import (
    do_receive_key_material,
    do_receive_notifications,
    do_receive_status,
)
from neweid.server.exchange.lists import REGISTRY_LISTS, registry_list
from neweid.server.exchange.models import ExchangeSystem, SystemScope
from neweid.server.exchange.systems import authenticate_system

NDJSON = "application/x-ndjson"
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
          503: ErrorOut}
_FILE_OUT = {"responses": {200: {"description": "The file (JSON Lines, header first)",
                                 "content": {NDJSON: {"schema": {"type": "string"}}}}}}


def _file_in(file_type: FileType) -> dict[str, Any]:
    return {"requestBody": {"required": True, "description": f"A {file_type.value} file (JSON Lines)",
                            "content": {NDJSON: {"schema": {"type": "string"}}}}}


class SystemTokenAuth(HttpBearer):
    """A registered system's bearer token, for one scope."""

    def __init__(self, scope: SystemScope) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ExchangeSystem | None:
        system = authenticate_system(token, self.scope)
        if system is not None:
            request.exchange_system = system  # type: ignore[attr-defined]
        return system


registry_auth = SystemTokenAuth(SystemScope.REGISTRY)
production_auth = SystemTokenAuth(SystemScope.PRODUCTION)
router = Router(tags=["exchange"])


def _system(request: HttpRequest) -> ExchangeSystem:
    system = getattr(request, "exchange_system", None)
    assert isinstance(system, ExchangeSystem)  # the router's auth set it
    return system


def _posted(request: HttpRequest, file_type: FileType) -> ExchangeFile:
    try:
        body = request.body
    except RequestDataTooBig:
        raise ExchangeFileError("the file is larger than the server accepts in one request: post it in "
                                "parts") from None
    return decode_file(body, expect=file_type)


def _download(chunks: Any, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=f"{NDJSON}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class ReceivedOut(Schema):
    received: int
    duplicates: int


class NotificationsOut(ReceivedOut):
    cards_affected: int


class BatchOut(Schema):
    reference: str
    production_date: datetime.date
    status: str
    size: int
    reproductions: int


# -- household registration system --------------------------------------------------------------------


@router.get("/registry/files/{file_type}", auth=registry_auth, response={200: None, **ERRORS},
            openapi_extra=_FILE_OUT, summary="A per-office list of a day (registry.*)")
def registry_file(request: HttpRequest, file_type: FileType, office: str,
                  date: datetime.date) -> StreamingHttpResponse:
    system = _system(request)
    with audited_action("exchange.registry.list", actor=system.actor, object_type="exchange_file",
                        object_id=file_type.value,
                        extra={"office": office[:16], "day": date.isoformat()}) as audit:
        if file_type not in REGISTRY_LISTS:
            raise ExchangeFileError(f"{file_type.value} is not a list for the household registration system")
        data = registry_list(file_type, office, date, now=timezone.now())
        audit.extra["bytes"] = len(data)
    return _download(iter([data]), f"{file_type.value}-{office}-{date:%Y%m%d}.jsonl")


@router.post("/registry/notifications", auth=registry_auth, response={200: NotificationsOut, **ERRORS},
             openapi_extra=_file_in(FileType.NOTIFICATIONS), summary="Registry change notifications")
def registry_notifications(request: HttpRequest) -> NotificationsOut:
    result = do_receive_notifications(_posted(request, FileType.NOTIFICATIONS), system=_system(request))
    if result.received:
        transaction.on_commit(process_after_receipt)  # voiding requests, revocations, chip-update flags
    return NotificationsOut(received=result.received, duplicates=result.duplicates,
                            cards_affected=result.cards_affected)


# -- production centre ----------------------------------------------------------------------------------


@router.get("/production/batches", auth=production_auth, response={200: list[BatchOut], **ERRORS},
            summary="Batches sent to production and not yet completed")
def production_batches(request: HttpRequest) -> list[BatchOut]:
    with audited_action("exchange.production.batches", actor=_system(request).actor,
                        object_type="production_batch") as audit:
        in_production = (BatchStatus.SENT, BatchStatus.PRODUCED)
        rows = list(ProductionBatch.objects.filter(status__in=in_production)[:1000])
        audit.extra["batches"] = len(rows)
    return [BatchOut(reference=b.reference, production_date=b.production_date, status=b.status, size=b.size,
                     reproductions=b.reproductions) for b in rows]


@router.get("/production/batches/{reference}/package", auth=production_auth, response={200: None, **ERRORS},
            openapi_extra=_FILE_OUT, summary="The production package of a batch (production.package)")
def production_package(request: HttpRequest, reference: str) -> StreamingHttpResponse:
    system = _system(request)
    with audited_action("exchange.production.package", actor=system.actor, object_type="production_batch",
                        object_id=reference[:48]) as audit:
        package, lines = package_stream(reference, now=timezone.now())
        audit.extra.update({"cards": package.count, "sha256": package.sha256})
    return _download(lines, f"{FileType.PACKAGE.value}-{reference}.jsonl")


@router.post("/production/key-material", auth=production_auth, response={200: ReceivedOut, **ERRORS},
             openapi_extra=_file_in(FileType.KEY_MATERIAL), summary="Pre-produced blank chips and their CSRs")
def production_key_material(request: HttpRequest) -> ReceivedOut:
    result = do_receive_key_material(_posted(request, FileType.KEY_MATERIAL), system=_system(request))
    return ReceivedOut(received=result.received, duplicates=result.duplicates)


@router.post("/production/status", auth=production_auth, response={200: ReceivedOut, **ERRORS},
             openapi_extra=_file_in(FileType.STATUS), summary="Status replies (produced, defective, shipped)")
def production_status(request: HttpRequest) -> ReceivedOut:
    result = do_receive_status(_posted(request, FileType.STATUS), system=_system(request))
    return ReceivedOut(received=result.received, duplicates=result.duplicates)
