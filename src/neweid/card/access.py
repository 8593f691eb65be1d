"""Access control: a file map :class:`~neweid.formats.filemap.Access` rule evaluated against the
session's security status, the interface and the life cycle (CARD-3, CARD-7).

``Access.TA`` in a rule means: Terminal Authentication and Chip Authentication done in this session,
and the effective rights (the AND of the chain's CHATs) hold at least one of the file's ``read_right``
(for reading) or ``update_right`` (for updating); otherwise ``6982`` (docs/eac-profile.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from neweid.card.errors import CardError
from neweid.card.filesystem import DedicatedFile, check_interface
from neweid.card.state import CardContext
from neweid.formats.chat import NeidRight
from neweid.formats.filemap import Access, FileSpec, Interface
from neweid.formats.iso7816 import Ins, PinRef, StatusWord


@dataclass(frozen=True)
class SecurityStatus:
    """What the session has established."""

    sm: bool
    verified: frozenset[PinRef]
    rights: NeidRight = NeidRight.NONE  # effective rights after TA and CA (none before)


def security_status(ctx: CardContext) -> SecurityStatus:
    session = ctx.session
    return SecurityStatus(session.sm is not None, frozenset(session.verified), session.eac.rights)


def satisfies(rule: Access, status: SecurityStatus, right: NeidRight = NeidRight.NONE) -> bool:
    """Whether ``status`` meets every condition of ``rule``; ``right`` is what ``Access.TA`` asks for
    (at least one of its bits among the effective rights)."""
    if Access.NEVER in rule:
        return False
    needed = (
        (Access.SM, status.sm),
        (Access.PIN1, PinRef.PIN1 in status.verified),
        (Access.PIN2, PinRef.PIN2 in status.verified),
        (Access.TA, bool(status.rights & right)),
    )
    return all(have for flag, have in needed if flag in rule)


def _require(ctx: CardContext, df: DedicatedFile, ef: FileSpec, rule: Access, right: NeidRight,
             what: str) -> None:
    check_interface(df, ef, ctx.session.interface)
    if not ctx.operational:  # personalisation: contact interface, no conditions
        return
    if not satisfies(rule, security_status(ctx), right):
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, f"{what} of {ef.name} not allowed")


def require_read(ctx: CardContext, df: DedicatedFile, ef: FileSpec) -> None:
    _require(ctx, df, ef, ef.read, ef.read_right, "read")


def require_update(ctx: CardContext, df: DedicatedFile, ef: FileSpec) -> None:
    _require(ctx, df, ef, ef.update, ef.update_right, "update")


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
