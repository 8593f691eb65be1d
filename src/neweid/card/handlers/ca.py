"""Chip Authentication version 2 on the chip (TR-03110-2 §3.4, TR-03110-3 B.11.4; docs/eac-profile.md):
MSE:Set AT (41A4 with the CA OID) and GENERAL AUTHENTICATE ``7C{80 ephPK_PCD}`` → ``7C{81 r_PICC,
82 T_PICC}``.

The answer leaves the card under the old secure-messaging keys (the dispatcher wraps it with the keys
it unwrapped the command with); the session then continues with the new keys and SSC 0.
"""

from __future__ import annotations

import logging

from neweid.card.access import require_contact_sm
from neweid.card.apdu import CommandApdu
from neweid.card.errors import CardError
from neweid.card.handlers.pace import decode_oid
from neweid.card.handlers.ta import parse_dos
from neweid.card.keys import load_ec_key
from neweid.card.state import CardContext
from neweid.crypto.ca import ID_CA_ECDH_AES_CBC_CMAC_256, CaChip
from neweid.crypto.ec import NIST_P521
from neweid.crypto.errors import AuthenticationError, CryptoError
from neweid.crypto.sm import SecureMessaging
from neweid.formats.iso7816 import StatusWord
from neweid.formats.tlv import Tlv, encode_constructed, encode_tlv, find_tlv

_log = logging.getLogger(__name__)

CA_KEY_ID = 0x01  # the one static CA key (ChipAuthenticationPublicKeyInfo keyId 1)
TAG_DYNAMIC_AUTH = 0x7C


def set_at(ctx: CardContext, items: list[Tlv]) -> bytes:
    """Select Chip Authentication: ``{80 id-CA-ECDH-AES-CBC-CMAC-256, [84 01]}``; TA must be done."""
    require_contact_sm(ctx)
    eac = ctx.session.eac
    if not eac.ta.done or eac.ca.done:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "Chip Authentication follows TA, once")
    oid_do, key_do = find_tlv(items, 0x80), find_tlv(items, 0x84)
    if oid_do is None or decode_oid(oid_do.value) != ID_CA_ECDH_AES_CBC_CMAC_256:
        raise CardError(StatusWord.WRONG_DATA, "CA protocol not supported")
    if key_do is not None and key_do.value != bytes([CA_KEY_ID]):
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, "unknown CA key")
    if ctx.persistent.ca_key is None:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, "no Chip Authentication key")
    eac.ca.selected = True
    eac.se.agree = None
    return b""


def _ephemeral_key(data: bytes) -> bytes:
    outer = parse_dos(data)
    if len(outer) != 1 or outer[0].tag != TAG_DYNAMIC_AUTH:
        raise CardError(StatusWord.WRONG_DATA, "expected one DO 7C")
    inner = parse_dos(outer[0].value)
    if len(inner) != 1 or inner[0].tag != 0x80:
        raise CardError(StatusWord.WRONG_DATA, "expected DO 7C {80 ephemeral public key}")
    return inner[0].value


def general_authenticate(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """Key agreement with the static CA key; new SM keys after the answer."""
    require_contact_sm(ctx)
    eac = ctx.session.eac
    if apdu.p1p2 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "GENERAL AUTHENTICATE P1P2 must be 0000")
    eac.ca.selected = False  # one attempt per MSE:Set AT
    eph = _ephemeral_key(apdu.data)
    if ctx.persistent.ca_key is None:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, "no Chip Authentication key")
    chip = CaChip(NIST_P521, load_ec_key(ctx.persistent.ca_key), ID_CA_ECDH_AES_CBC_CMAC_256, ctx.rng)
    try:
        answer = chip.respond(eph, expected_comp=eac.ta.comp_eph_pk)
    except AuthenticationError:
        raise CardError(StatusWord.WRONG_DATA, "ephemeral key differs from the one announced in TA") from None
    except CryptoError:
        raise CardError(StatusWord.WRONG_DATA, "invalid ephemeral public key") from None
    ctx.session.sm = SecureMessaging(answer.k_enc, answer.k_mac)
    eac.ca.done = True
    _log.info("Chip Authentication done: secure messaging restarted with new keys")
    return encode_constructed(TAG_DYNAMIC_AUTH,
                              [encode_tlv(0x81, answer.r_picc), encode_tlv(0x82, answer.t_picc)])
