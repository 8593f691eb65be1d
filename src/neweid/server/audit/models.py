"""Audit entries (append-only, hash-chained) and the chain head that serialises appends."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from neweid.server.errors import ErrorCode, ServerError


class AppendOnlyError(ServerError):
    code = ErrorCode.AUDIT_APPEND_ONLY
    http_status = 500
    default_message = "The audit log is append-only."


class AuditResult(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"  # refused for a reason of the domain (bad input, wrong state)
    DENIED = "denied"  # authentication or authorisation refused
    ERROR = "error"  # unexpected error


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError()


class AuditEntry(models.Model):
    """One audited event. ``hash`` = SHA-256 of the canonical encoding of the entry and ``prev_hash``."""

    seq = models.BigIntegerField(primary_key=True)
    time = models.DateTimeField()
    actor = models.CharField(max_length=32, blank=True)  # non-personal staff ID, "" for anonymous
    function = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    result = models.CharField(max_length=16, choices=AuditResult.choices)
    source = models.CharField(max_length=64, blank=True)  # client address
    error_code = models.CharField(max_length=16, blank=True)
    extra = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects: ClassVar[AuditEntryQuerySet] = AuditEntryQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ("seq",)
        indexes = (
            models.Index(fields=("time",), name="audit_entry_time"),
            models.Index(fields=("actor", "time"), name="audit_entry_actor_time"),
            models.Index(fields=("function", "time"), name="audit_entry_function_time"),
        )

    def __str__(self) -> str:
        return f"#{self.seq} {self.function} {self.result}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError()

    def hashed_fields(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, "actor": self.actor, "function": self.function,
                "object_type": self.object_type, "object_id": self.object_id, "result": self.result,
                "source": self.source, "error_code": self.error_code, "extra": self.extra,
                "prev_hash": self.prev_hash}


class AuditChainHead(models.Model):
    """The single row (pk 1) holding the last seq and hash; appends lock it (SELECT ... FOR UPDATE)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit head #{self.last_seq}"
