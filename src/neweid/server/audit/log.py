"""Appending to the audit log: :func:`record` and the :func:`audited_action` pattern for do_* actions."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from neweid.server.audit.context import acting, current_actor, current_source
from neweid.server.audit.hashing import GENESIS_HASH, check_extra, entry_hash
from neweid.server.audit.models import AuditChainHead, AuditEntry, AuditResult
from neweid.server.errors import AccessDeniedError, ErrorCode, ServerError

logger = logging.getLogger(__name__)

HEAD_ID = 1


def _locked_head() -> AuditChainHead:
    """The chain head, locked until the end of the transaction (created from the last entry if missing)."""
    try:
        return AuditChainHead.objects.select_for_update().get(pk=HEAD_ID)
    except AuditChainHead.DoesNotExist:
        last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, last_hash = last if last is not None else (0, GENESIS_HASH)
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=HEAD_ID, last_seq=seq, last_hash=last_hash)],
                                           ignore_conflicts=True)
        return AuditChainHead.objects.select_for_update().get(pk=HEAD_ID)


def record(function: str, *, result: AuditResult = AuditResult.SUCCESS, actor: str | None = None,
           object_type: str = "", object_id: str | int = "", error_code: str = "",
           extra: dict[str, Any] | None = None, source: str | None = None,
           now: Callable[[], datetime.datetime] = timezone.now) -> AuditEntry:
    """Append one entry; joins the caller's transaction (so it commits or rolls back with the action).

    ``actor`` and ``source`` default to the current context (request or action). ``extra`` must not hold
    personal data (checked: see :func:`neweid.server.audit.hashing.check_extra`).
    """
    payload = dict(extra or {})
    check_extra(payload)
    with transaction.atomic():
        head = _locked_head()
        entry = AuditEntry(
            seq=head.last_seq + 1, time=now(), actor=current_actor() if actor is None else actor,
            function=function, object_type=object_type, object_id=str(object_id), result=result.value,
            source=current_source() if source is None else source, error_code=str(error_code),
            extra=payload, prev_hash=head.last_hash)
        entry.hash = entry_hash(entry.hashed_fields())
        entry.save()
        head.last_seq, head.last_hash = entry.seq, entry.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return entry


@dataclass
class ActionAudit:
    """What an action fills in while it runs; written to the audit entry when it ends."""

    object_type: str = ""
    object_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def audited_action(function: str, *, actor: str, object_type: str = "", object_id: str | int = "",
                   extra: dict[str, Any] | None = None, durable: bool = True) -> Iterator[ActionAudit]:
    """Run the body of a do_* action atomically with its audit entry.

    On success the entry (result ``success``) is written in the same transaction as the action's changes;
    side effects belong in ``transaction.on_commit``. On a :class:`ServerError` the changes roll back, a
    ``failure``/``denied`` entry with the error code is written, and the error propagates; any other
    exception is logged as ``error`` (E500) and propagates. ``durable=True`` (the default) makes nesting
    one action inside another's transaction an error, as it should be: actions are the outermost unit.
    """
    audit = ActionAudit(object_type=object_type, object_id=str(object_id), extra=dict(extra or {}))
    try:
        with acting(actor), transaction.atomic(durable=durable):
            yield audit
            record(function, actor=actor, object_type=audit.object_type, object_id=audit.object_id,
                   extra=audit.extra)
    except ServerError as exc:
        result = AuditResult.DENIED if isinstance(exc, AccessDeniedError) else AuditResult.FAILURE
        record(function, result=result, actor=actor, object_type=audit.object_type,
               object_id=audit.object_id, error_code=exc.code.value, extra=_safe(audit.extra))
        raise
    except Exception:
        logger.exception("action %s failed unexpectedly", function)
        record(function, result=AuditResult.ERROR, actor=actor, object_type=audit.object_type,
               object_id=audit.object_id, error_code=ErrorCode.INTERNAL.value)
        raise


def _safe(extra: dict[str, Any]) -> dict[str, Any]:
    try:
        check_extra(extra)
    except ServerError:
        return {}
    return extra
