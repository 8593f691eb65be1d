"""Personalisation commands (docs/protocol-profile.md "Life cycle"): PUT DATA, GENERATE ASYMMETRIC KEY
PAIR (the Active Authentication key) and ACTIVATE. All answer ``6985`` once the card is operational or
on the contactless interface."""

from __future__ import annotations

import datetime as dt
import logging
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.card.access import require_personalisation
from neweid.card.apdu import CommandApdu
from neweid.card.errors import CardError
from neweid.card.filesystem import file_key
from neweid.card.pins import PinRecord, is_well_formed
from neweid.card.state import CardContext, LifeCycle
from neweid.crypto.ec import NIST_P521, random_scalar
from neweid.formats.filemap import EF_CARD_ACCESS_FID, EF_DIR_FID
from neweid.formats.iso7816 import KeyRef, PinRef, PutDataTag, StatusWord
from neweid.formats.tlv import encode_tlv

_log = logging.getLogger(__name__)

_CAN = re.compile(rb"[0-9]{6}")
_MRZ_SEED = re.compile(rb"[0-9A-Z<]{24,64}")
_DATE = re.compile(rb"[0-9]{8}")
_PIN_TAGS = {
    PutDataTag.PIN1: PinRef.PIN1, PutDataTag.PIN2: PinRef.PIN2, PutDataTag.USER_CODE: PinRef.USER_CODE,
}

# Files ACTIVATE requires (besides CAN, MRZ seed, user code and the AA key): the MF's EF.DIR and
# EF.CardAccess, without which no host can find the zones or run PACE.
MANDATORY_FILES = (EF_DIR_FID, EF_CARD_ACCESS_FID)


def _wrong(what: str) -> CardError:
    return CardError(StatusWord.WRONG_DATA, f"wrong {what} format")


def put_data(ctx: CardContext, apdu: CommandApdu) -> bytes:
    require_personalisation(ctx)
    if apdu.p1p2 not in set(PutDataTag):
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, f"no data object {apdu.p1p2:04X}")
    tag, value, state = PutDataTag(apdu.p1p2), apdu.data, ctx.persistent
    if tag in _PIN_TAGS:
        ref = _PIN_TAGS[tag]
        if not is_well_formed(ref, value):
            raise _wrong(ref.name)
        state.pins[ref] = PinRecord.create(ref, value, ctx.rng, default=ref is PinRef.USER_CODE)
    elif tag is PutDataTag.CAN:
        if not _CAN.fullmatch(value):
            raise _wrong("CAN")
        state.can = value.decode("ascii")
    elif tag is PutDataTag.MRZ_KEY_SEED:
        if not _MRZ_SEED.fullmatch(value):
            raise _wrong("MRZ key seed")
        state.mrz_seed = value.decode("ascii")
    else:
        if not _DATE.fullmatch(value):
            raise _wrong("card date")
        try:
            dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise _wrong("card date") from None
        state.card_date = value.decode("ascii")
    ctx.changed()
    return b""


def generate_asymmetric_key_pair(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """Generate the AA key (P-521) once; answer ``7F49 {86 04‖X‖Y}``."""
    require_personalisation(ctx)
    if apdu.p1 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "GENERATE ASYMMETRIC KEY PAIR P1 must be 00")
    if apdu.p2 != KeyRef.ACTIVE_AUTHENTICATION:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, f"no key reference {apdu.p2:02X}")
    if ctx.persistent.aa_key is not None:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "the AA key exists already")
    key = ec.derive_private_key(random_scalar(NIST_P521, ctx.rng), ec.SECP521R1())
    ctx.persistent.aa_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    ctx.changed()
    point = key.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
    return encode_tlv(0x7F49, encode_tlv(0x86, point))


def activate(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """Lock the card into the operational state once everything mandatory is present."""
    require_personalisation(ctx)
    if apdu.p1p2 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "ACTIVATE P1P2 must be 0000")
    fs, state = ctx.fs, ctx.persistent
    if ctx.session.current_df is not fs.mf:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "select the MF before ACTIVATE")
    missing = [name for name, ok in (
        ("CAN", state.can is not None),
        ("MRZ key seed", state.mrz_seed is not None),
        ("user code", PinRef.USER_CODE in state.pins),
        ("AA key", state.aa_key is not None),
    ) if not ok]
    for fid in MANDATORY_FILES:
        ef = fs.ef_by_fid(fs.mf, fid)
        if ef is None or not state.files.get(file_key(fs.mf, ef)):
            missing.append(f"EF {fid:04X}")
    if missing:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "missing: " + ", ".join(missing))
    state.lifecycle = LifeCycle.OPERATIONAL
    ctx.changed()
    _log.info("card activated")
    return b""
