"""Access control: a file map :class:`~neweid.formats.filemap.Access` rule evaluated against the
session's security status, the interface and the life cycle (CARD-3, CARD-7).

Terminal Authentication is not implemented yet (EAC issue): no session ever holds TA rights, so every
rule that needs TA is denied with ``6982``.
"""

from __future__ import annotations

from dataclasses import dataclass

from neweid.card.errors import CardError
from neweid.card.filesystem import DedicatedFile, check_interface
from neweid.card.state import CardContext
from neweid.formats.filemap import Access, FileSpec, Interface
from neweid.formats.iso7816 import Ins, PinRef, StatusWord


@dataclass(frozen=True)
class SecurityStatus:
    """What the session has established."""

    sm: bool
    verified: frozenset[PinRef]
    ta: bool = False


def security_status(ctx: CardContext) -> SecurityStatus:
    session = ctx.session
    return SecurityStatus(session.sm is not None, frozenset(session.verified))


def satisfies(rule: Access, status: SecurityStatus) -> bool:
    """Whether ``status`` meets every condition of ``rule``."""
    if Access.NEVER in rule:
        return False
    needed = (
        (Access.SM, status.sm),
        (Access.PIN1, PinRef.PIN1 in status.verified),
        (Access.PIN2, PinRef.PIN2 in status.verified),
        (Access.TA, status.ta),
    )
    return all(have for flag, have in needed if flag in rule)


def _require(ctx: CardContext, df: DedicatedFile, ef: FileSpec, rule: Access, what: str) -> None:
    check_interface(df, ef, ctx.session.interface)
    if not ctx.operational:  # personalisation: contact interface, no conditions
        return
    if not satisfies(rule, security_status(ctx)):
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, f"{what} of {ef.name} not allowed")


def require_read(ctx: CardContext, df: DedicatedFile, ef: FileSpec) -> None:
    _require(ctx, df, ef, ef.read, "read")


def require_update(ctx: CardContext, df: DedicatedFile, ef: FileSpec) -> None:
    _require(ctx, df, ef, ef.update, "update")


def require_personalisation(ctx: CardContext) -> None:
    """Personalisation commands: only before ACTIVATE, only on the contact interface (``6985``)."""
    if ctx.operational or ctx.session.interface is not Interface.CONTACT:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "not in the personalisation state")


def require_interface_allowed(ctx: CardContext, ins: int) -> None:
    """Before ACTIVATE the chip talks only over the contact interface; the contactless interface
    answers ``6985`` to everything but the PC/SC UID pseudo-APDU."""
    if (not ctx.operational and ctx.session.interface is Interface.CONTACTLESS
            and ins != Ins.GET_DATA):
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "personalisation: contact interface only")


def require_contact_sm(ctx: CardContext) -> None:
    """PIN commands: contact interface (``6985``) and secure messaging (``6982``)."""
    if ctx.session.interface is not Interface.CONTACT:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "contact interface required")
    if ctx.session.sm is None:
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "secure messaging required")
