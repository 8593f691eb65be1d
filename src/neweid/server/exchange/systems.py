"""Machine clients of the exchange API: registration (maker–checker), authentication, revocation.

A system is registered by one MOI administrator (:func:`do_register_system`), who receives its API token
once; the token works only after a *second* administrator approves (action ``exchange.activate_system``).
Only the token's SHA-256 is stored; a token is 32 random bytes, so a plain hash is enough (nothing to
guess), and the lookup by hash compares no secret byte by byte. Each system has one scope: the household
registration system's endpoints or the production centre's — never both, never a staff session.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from neweid.server.accounts.access import require
from neweid.server.accounts.approvals import open_approval
from neweid.server.accounts.models import ApprovalRequest
from neweid.server.accounts.roles import Capability
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action, record
from neweid.server.audit.models import AuditResult
from neweid.server.errors import ValidationFailedError
from neweid.server.exchange.errors import SystemStateError
from neweid.server.exchange.models import ExchangeSystem, SystemScope, SystemStatus

ACTIVATE = "exchange.activate_system"
TOKEN_PREFIX = "nex_"  # noqa: S105 (a marker, not a secret)
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{2,47}")
Rng = Callable[[int], bytes]
Clock = Callable[[], datetime.datetime]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, repr=False)
class Registration:
    system: ExchangeSystem
    token: str  # shown once, to the maker

    def __repr__(self) -> str:
        return f"Registration({self.system.name})"


def do_register_system(name: str, scope: SystemScope | str, *, acting_user: Any, rng: Rng = os.urandom,
                       now: Clock = timezone.now) -> Registration:
    """Register a machine client (pending until a second person approves); returns its token once."""
    with audited_action("exchange.system.register", actor=actor_id(acting_user),
                        object_type="exchange_system",
                        object_id=name if _NAME.fullmatch(name or "") else "") as audit:
        require(acting_user, Capability.MANAGE_OFFICES)
        if not _NAME.fullmatch(name or ""):
            raise ValidationFailedError()
        try:
            scope = SystemScope(scope)
        except ValueError:
            raise ValidationFailedError() from None
        if ExchangeSystem.objects.filter(name=name).exists():
            raise SystemStateError()
        token = TOKEN_PREFIX + base64.urlsafe_b64encode(rng(32)).decode("ascii").rstrip("=")
        system = ExchangeSystem.objects.create(
            name=name, scope=scope, token_hash=token_hash(token), token_prefix=token[:8],
            requested_by=actor_id(acting_user), requested_at=now())
        system.approval = open_approval(ACTIVATE, {"system": system.pk}, acting_user=acting_user,
                                        object_type="exchange_system", object_id=system.pk, office=None)
        system.save(update_fields=["approval"])
        audit.extra["scope"] = scope.value
        return Registration(system, token)


def execute_activation(request: ApprovalRequest, approver: Any) -> dict[str, Any]:
    """Maker–checker executor: the system's token starts to work."""
    system = ExchangeSystem.objects.select_for_update().get(pk=request.payload["system"])
    if system.status != SystemStatus.PENDING:
        raise SystemStateError()
    system.status = SystemStatus.ACTIVE
    system.activated_at = timezone.now()
    system.save(update_fields=["status", "activated_at"])
    record("exchange.system.activated", actor=actor_id(approver), object_type="exchange_system",
           object_id=system.name, extra={"scope": system.scope})
    return {"system": system.name, "scope": system.scope}


def do_revoke_system(name: str, *, acting_user: Any, now: Clock = timezone.now) -> ExchangeSystem:
    """The token stops working at once (one person may stop a system; starting one needs two)."""
    with audited_action("exchange.system.revoke", actor=actor_id(acting_user), object_type="exchange_system",
                        object_id=name):
        require(acting_user, Capability.MANAGE_OFFICES)
        system = ExchangeSystem.objects.select_for_update().filter(name=name).first()
        if system is None or system.status == SystemStatus.REVOKED:
            raise SystemStateError()
        system.status = SystemStatus.REVOKED
        system.revoked_at = now()
        system.save(update_fields=["status", "revoked_at"])
        return system


def authenticate_system(token: str, scope: SystemScope, *,
                        now: Clock = timezone.now) -> ExchangeSystem | None:
    """The active system holding ``token`` in ``scope``, else None (every refusal is audited)."""
    system = None
    if token.startswith(TOKEN_PREFIX) and len(token) < 100:
        system = ExchangeSystem.objects.filter(token_hash=token_hash(token)).first()
    if system is None or system.status != SystemStatus.ACTIVE or system.scope != scope:
        record("exchange.authenticate", result=AuditResult.DENIED,
               actor=system.actor if system else "system:?", object_type="exchange_system",
               object_id=system.name if system else "",
               extra={"scope": scope.value, "status": system.status if system else "unknown"})
        return None
    ExchangeSystem.objects.filter(pk=system.pk).update(last_used_at=now())
    return system
