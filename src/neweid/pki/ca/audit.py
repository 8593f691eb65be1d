"""The audit trail of lifecycle actions (PKI-1: every lifecycle action audited).

Each action — done or refused — becomes one :class:`AuditEvent`, handed to an :class:`AuditSink`. The
default sink appends one JSON object per line to ``audit.jsonl`` in the CA directory (flushed and fsynced
per event). Events hold certificate serial numbers and staff/client identifiers only: never a name, an ID
number, a card serial, an e-mail address or a phone number.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from neweid.pki.ca.errors import RegistryError

__all__ = [
    "Actor",
    "ActorKind",
    "AuditAction",
    "AuditEvent",
    "AuditSink",
    "JsonLinesAuditSink",
    "MemoryAuditSink",
    "Outcome",
]


class AuditAction(StrEnum):
    AUTHENTICATE = "authenticate"
    ISSUE = "issue"
    SUSPEND = "suspend"
    RESUME = "resume"
    REVOKE = "revoke"
    REISSUE = "reissue"
    REISSUE_CONTENT_CHANGE = "reissue-content-change"
    REWRITE = "rewrite"
    STATUS = "status"
    SET_PUBLICATION = "set-publication"
    CHANGE_CONTACT = "change-contact"
    CRL = "crl"


class ActorKind(StrEnum):
    OFFICE = "office"  # household registration office staff through the New eID management system (RAO)
    CITIZEN = "citizen"  # the citizen through the online service
    CA_OPERATOR = "ca-operator"  # the CA's own operator (the `neweid ca` command)
    SYSTEM = "system"  # scheduled jobs


class Outcome(StrEnum):
    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True)
class Actor:
    """Who acts: the kind and a staff or client identifier (empty for citizens: no personal data)."""

    kind: ActorKind
    identifier: str = ""


@dataclass(frozen=True)
class AuditEvent:
    time: datetime.datetime
    action: AuditAction
    outcome: Outcome
    actor: Actor
    serials: tuple[int, ...] = ()
    reason: str | None = None
    refusal: str | None = None
    extra: dict[str, str | int | bool] = field(default_factory=dict)

    def to_json(self) -> str:
        body: dict[str, object] = {
            "time": self.time.astimezone(datetime.UTC).isoformat(),
            "action": self.action.value,
            "outcome": self.outcome.value,
            "actor": self.actor.kind.value,
            "actor_id": self.actor.identifier,
            "serials": [format(s, "x") for s in self.serials],
        }
        if self.reason is not None:
            body["reason"] = self.reason
        if self.refusal is not None:
            body["refusal"] = self.refusal
        if self.extra:
            body["extra"] = self.extra
        return json.dumps(body, ensure_ascii=False, sort_keys=True)


class AuditSink(Protocol):
    """Where audit events go. ``record`` must raise rather than lose an event silently."""

    def record(self, event: AuditEvent) -> None: ...


class JsonLinesAuditSink:
    """Append-only JSON lines file (created 0600)."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    def record(self, event: AuditEvent) -> None:
        line = (event.to_json() + "\n").encode("utf-8")
        with self._lock:
            try:
                fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, line)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise RegistryError(f"cannot append to the audit log: {exc.strerror}") from exc


class MemoryAuditSink:
    """Keeps events in a list (tests, embedding)."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)
