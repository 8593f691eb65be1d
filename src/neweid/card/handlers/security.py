"""Active Authentication (INTERNAL AUTHENTICATE) and GET CHALLENGE."""

from __future__ import annotations

from neweid.card.apdu import CommandApdu
from neweid.card.errors import CardError
from neweid.card.keys import load_ec_key
from neweid.card.state import CardContext
from neweid.crypto.aa import sign_challenge
from neweid.formats.iso7816 import StatusWord

CHALLENGE_BYTES = 8


def internal_authenticate(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """AA: ECDSA P-521/SHA-512 over the 8-byte challenge, answered as r ‖ s."""
    if apdu.p1p2 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "INTERNAL AUTHENTICATE P1P2 must be 0000")
    if ctx.session.sm is None:
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "secure messaging required")
    if len(apdu.data) != CHALLENGE_BYTES:
        raise CardError(StatusWord.WRONG_LENGTH, "the AA challenge has 8 bytes")
    if ctx.persistent.aa_key is None:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "no Active Authentication key")
    return sign_challenge(load_ec_key(ctx.persistent.aa_key), apdu.data)


def get_challenge(ctx: CardContext, apdu: CommandApdu) -> bytes:
    if apdu.p1p2 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "GET CHALLENGE P1P2 must be 0000")
    if apdu.data or apdu.ne is None or apdu.ne < CHALLENGE_BYTES:
        raise CardError(StatusWord.WRONG_LENGTH, "GET CHALLENGE answers 8 bytes")
    challenge = ctx.rng(CHALLENGE_BYTES)
    ctx.session.challenge = challenge
    return challenge
