"""Instructions shared by several protocols, routed by P1P2 or by the session state:

- MANAGE SECURITY ENVIRONMENT: ``C1A4`` PACE, ``81B6`` / ``81A4`` Terminal Authentication, ``41A4``
  Chip Authentication (DO 80 present) or the certificate zone's key agreement (DO 84 only), ``41B6``
  and ``41B8`` the certificate zone's signing and deciphering keys;
- PERFORM SECURITY OPERATION: ``00BE`` Verify Certificate, ``9E9A`` Compute Digital Signature, ``8086``
  Decipher;
- GENERAL AUTHENTICATE: the PACE run in progress, else the CA selected by MSE, else the ECDH key
  agreement selected by MSE (the last MSE:Set AT decides).
"""

from __future__ import annotations

from neweid.card.apdu import CommandApdu
from neweid.card.errors import CardError
from neweid.card.handlers import ca, certzone, pace, ta
from neweid.card.state import CardContext
from neweid.formats.iso7816 import StatusWord
from neweid.formats.tlv import find_tlv

MSE_SET_AT_PACE = 0xC1A4
MSE_SET_DST_TA = 0x81B6
MSE_SET_AT_TA = 0x81A4
MSE_SET_AT_INTERNAL = 0x41A4
MSE_SET_DST_INTERNAL = 0x41B6
MSE_SET_CT_INTERNAL = 0x41B8
PSO_VERIFY_CERTIFICATE = 0x00BE
PSO_COMPUTE_DIGITAL_SIGNATURE = 0x9E9A
PSO_DECIPHER = 0x8086


def manage_security_environment(ctx: CardContext, apdu: CommandApdu) -> bytes:
    p1p2 = apdu.p1p2
    if p1p2 == MSE_SET_AT_PACE:
        return pace.manage_security_environment(ctx, apdu)
    if p1p2 == MSE_SET_DST_TA:
        return ta.set_dst(ctx, apdu)
    if p1p2 == MSE_SET_AT_TA:
        return ta.set_at(ctx, apdu)
    if p1p2 in (MSE_SET_AT_INTERNAL, MSE_SET_DST_INTERNAL, MSE_SET_CT_INTERNAL):
        items = ta.parse_dos(apdu.data)
        if p1p2 == MSE_SET_DST_INTERNAL:
            return certzone.set_dst(ctx, items)
        if p1p2 == MSE_SET_CT_INTERNAL:
            return certzone.set_ct(ctx, items)
        if find_tlv(items, 0x80) is not None:
            return ca.set_at(ctx, items)
        return certzone.set_at(ctx, items)
    raise CardError(StatusWord.INCORRECT_P1P2, f"MSE {p1p2:04X} not supported")


def perform_security_operation(ctx: CardContext, apdu: CommandApdu) -> bytes:
    p1p2 = apdu.p1p2
    if p1p2 == PSO_VERIFY_CERTIFICATE:
        return ta.verify_certificate(ctx, apdu)
    if p1p2 == PSO_COMPUTE_DIGITAL_SIGNATURE:
        return certzone.compute_digital_signature(ctx, apdu)
    if p1p2 == PSO_DECIPHER:
        return certzone.decipher(ctx, apdu)
    raise CardError(StatusWord.INCORRECT_P1P2, f"PSO {p1p2:04X} not supported")


def general_authenticate(ctx: CardContext, apdu: CommandApdu) -> bytes:
    session = ctx.session
    if session.pace is None:
        if session.eac.ca.selected:
            return ca.general_authenticate(ctx, apdu)
        if session.eac.se.agree is not None:
            return certzone.key_agreement(ctx, apdu)
    return pace.general_authenticate(ctx, apdu)
