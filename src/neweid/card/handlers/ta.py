"""Terminal Authentication version 2 on the chip (TR-03110-2 §3.3, TR-03110-3 B.11; docs/eac-profile.md):
MSE:Set DST (81B6), PSO:Verify Certificate (00BE), MSE:Set AT (81A4) and EXTERNAL AUTHENTICATE.

All need the contact interface (``6985``), secure messaging from PACE (``6982``) and come before Chip
Authentication (``6985`` afterwards). GET CHALLENGE is the generic one (handlers.security).
"""

from __future__ import annotations

import logging

from neweid.card.access import require_contact_sm
from neweid.card.apdu import CommandApdu
from neweid.card.cvcheck import (
    check_certificate,
    chip_today,
    decode_certificate,
    learn_from,
    public_key,
)
from neweid.card.eac import TaSession, TaStep, TrustedKey
from neweid.card.errors import CardError
from neweid.card.handlers.pace import decode_oid
from neweid.card.state import CardContext
from neweid.crypto.errors import CryptoError
from neweid.crypto.ta import ta_verify
from neweid.formats.chat import NeidRight, Role
from neweid.formats.cvc import ID_TA_ECDSA_SHA_512
from neweid.formats.iso7816 import StatusWord
from neweid.formats.tlv import Tlv, TlvError, find_tlv, parse_tlvs

_log = logging.getLogger(__name__)

TAG_OID = 0x80
TAG_REFERENCE = 0x83  # CAR (Set DST) / CHR of the terminal (Set AT)
TAG_EPHEMERAL = 0x91  # Comp(ephPK_PCD)
TAG_AUX = 0x67
P521_COORDINATE = 66


def parse_dos(data: bytes) -> list[Tlv]:
    try:
        return parse_tlvs(data)
    except TlvError as exc:
        raise CardError(StatusWord.WRONG_DATA, f"malformed data objects: {exc}") from None


def _text(value: bytes) -> str:
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        raise CardError(StatusWord.WRONG_DATA, "a certificate reference is ASCII") from None
    if not text.isprintable() or not 1 <= len(text) <= 16:
        raise CardError(StatusWord.WRONG_DATA, "malformed certificate reference")
    return text


def require_ta_phase(ctx: CardContext) -> TaSession:
    """Contact, SM, and Chip Authentication not yet done; the session's TA state."""
    require_contact_sm(ctx)
    eac = ctx.session.eac
    if eac.ca.done or eac.ca.selected:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "Terminal Authentication comes before CA")
    return eac.ta


def _key_by_reference(ctx: CardContext, ta: TaSession, reference: str) -> TrustedKey | None:
    imported = ta.imported.get(reference)
    if imported is not None:
        return imported
    return next((tp for tp in ctx.persistent.trust_points if tp.chr == reference), None)


def set_dst(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """Select the public key (trust point or imported) that verifies the next certificate."""
    ta = require_ta_phase(ctx)
    ref = find_tlv(parse_dos(apdu.data), TAG_REFERENCE)
    if ref is None:
        raise CardError(StatusWord.WRONG_DATA, "MSE:Set DST needs DO 83")
    key = _key_by_reference(ctx, ta, _text(ref.value))
    if key is None:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, "unknown certification authority reference")
    if ta.step is not TaStep.CERTIFICATES:  # a new chain after a finished or pending TA: start over
        ctx.session.eac.ta = ta = TaSession(imported=ta.imported)
    ta.selected = key
    return b""


def verify_certificate(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """PSO:Verify Certificate ``{7F4E body, 5F37 signature}``: verify with the selected key, import."""
    ta = require_ta_phase(ctx)
    issuer = ta.selected
    if issuer is None or ta.step is not TaStep.CERTIFICATES:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "no verification key selected (MSE:Set DST)")
    cert = decode_certificate(apdu.data, body_and_signature=True)
    key = check_certificate(ctx.persistent, cert, issuer)
    if learn_from(ctx.persistent, key):
        ctx.changed()
    ta.imported[key.chr] = key
    _log.info("imported %s certificate %s", key.role.name, key.chr)
    return b""


def set_at(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """MSE:Set AT for TA: ``{80 id-TA-ECDSA-SHA-512, 83 terminal CHR, 91 Comp(ephPK_PCD), [67 aux]}``."""
    ta = require_ta_phase(ctx)
    items = parse_dos(apdu.data)
    oid_do, ref_do, eph_do = (find_tlv(items, tag) for tag in (TAG_OID, TAG_REFERENCE, TAG_EPHEMERAL))
    if oid_do is None or ref_do is None or eph_do is None:
        raise CardError(StatusWord.WRONG_DATA, "MSE:Set AT for TA needs DO 80, 83 and 91")
    if decode_oid(oid_do.value) != ID_TA_ECDSA_SHA_512:
        raise CardError(StatusWord.WRONG_DATA, "TA protocol not supported")
    if len(eph_do.value) != P521_COORDINATE:
        raise CardError(StatusWord.WRONG_DATA, "Comp(ephPK_PCD) is a P-521 x-coordinate (66 bytes)")
    terminal = ta.imported.get(_text(ref_do.value))
    if terminal is None or terminal.role is not Role.TERMINAL:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, "terminal certificate not imported")
    aux = find_tlv(items, TAG_AUX)
    ta.terminal, ta.comp_eph_pk = terminal, eph_do.value
    ta.aux = b"" if aux is None else aux.encode()
    ta.step, ta.selected, ta.rights = TaStep.AUTHENTICATE, None, NeidRight.NONE
    ctx.session.challenge = None
    return b""


def external_authenticate(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """Check the terminal's signature over ``ID_PICC ‖ r_PICC ‖ Comp(ephPK_PCD) [‖ aux]``."""
    ta = require_ta_phase(ctx)
    if apdu.p1p2 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "EXTERNAL AUTHENTICATE P1P2 must be 0000")
    session = ctx.session
    challenge, session.challenge = session.challenge, None
    terminal, comp_eph = ta.terminal, ta.comp_eph_pk
    if (ta.step is not TaStep.AUTHENTICATE or challenge is None or terminal is None or comp_eph is None
            or session.id_picc is None):
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "MSE:Set AT and GET CHALLENGE first")
    if terminal.expiry < chip_today(ctx.persistent):
        session.eac.ta = TaSession()
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "terminal certificate expired")
    try:
        ta_verify(public_key(terminal.point), apdu.data, session.id_picc, challenge, comp_eph, ta.aux,
                  oid=ID_TA_ECDSA_SHA_512)
    except CryptoError:
        session.eac.ta = TaSession()
        _log.info("Terminal Authentication failed: wrong signature")
        raise CardError(StatusWord.AUTHENTICATION_FAILED, "terminal signature does not verify") from None
    ta.step, ta.rights = TaStep.DONE, terminal.rights
    _log.info("Terminal Authentication of %s succeeded", terminal.chr)
    return b""
