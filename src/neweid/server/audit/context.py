"""Who is acting and from where, for the audit log: set per request (middleware) or per action."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest

_actor: ContextVar[str] = ContextVar("neweid_audit_actor", default="")
_source: ContextVar[str] = ContextVar("neweid_audit_source", default="")


def actor_id(user: Any) -> str:
    """The non-personal ID the audit log uses for ``user``: the staff ID, else ``u<pk>``, else ""."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    profile = getattr(user, "staff_profile", None)
    staff_id = getattr(profile, "staff_id", "")
    return str(staff_id) if staff_id else f"u{user.pk}"


def client_ip(request: HttpRequest) -> str:
    """The client's address as the server sees it (REMOTE_ADDR; a trusted proxy setup can replace this)."""
    return str(request.META.get("REMOTE_ADDR", "") or "")


def current_actor() -> str:
    return _actor.get()


def current_source() -> str:
    return _source.get()


@contextmanager
def acting(actor: str | None = None, source: str | None = None) -> Iterator[None]:
    """Within the block, audit entries default to ``actor`` / ``source`` (None keeps the current one)."""
    actor_token = _actor.set(actor) if actor is not None else None
    source_token = _source.set(source) if source is not None else None
    try:
        yield
    finally:
        if source_token is not None:
            _source.reset(source_token)
        if actor_token is not None:
            _actor.reset(actor_token)
