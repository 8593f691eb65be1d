"""Personalisation commands (docs/protocol-profile.md "Life cycle", docs/eac-profile.md): PUT DATA (incl.
a CVCA trust point), GENERATE ASYMMETRIC KEY PAIR (AA, CA and certificate-zone keys) and ACTIVATE (which
closes an empty certificate zone). All answer ``6985`` once the card is operational or on the
contactless interface, except GENERATE ASYMMETRIC KEY PAIR P1 ``81`` (read a public key)."""

from __future__ import annotations

import datetime as dt
import logging
import re

from neweid.card.access import require_personalisation
from neweid.card.apdu import CommandApdu
from neweid.card.cvcheck import install_trust_point
from neweid.card.eac import CERT_ZONE_KEYS, RSA_KEYS
from neweid.card.errors import CardError
from neweid.card.filesystem import file_key
from neweid.card.handlers import certzone
from neweid.card.handlers.certzone import P1_READ_PUBLIC
from neweid.card.keys import generate_ec_key, generate_rsa_key, public_key_do
from neweid.card.pins import PinRecord, is_well_formed
from neweid.card.state import CardContext, LifeCycle
from neweid.formats.filemap import EF_CARD_ACCESS_FID, EF_DIR_FID, Zone
from neweid.formats.iso7816 import KeyRef, PinRef, PutDataTag, StatusWord

_log = logging.getLogger(__name__)

_CAN = re.compile(rb"[0-9]{6}")
_MRZ_SEED = re.compile(rb"[0-9A-Z<]{24,64}")
_DATE = re.compile(rb"[0-9]{8}")
_PIN_TAGS = {
    PutDataTag.PIN1: PinRef.PIN1, PutDataTag.PIN2: PinRef.PIN2, PutDataTag.USER_CODE: PinRef.USER_CODE,
}

_GENERATED = frozenset({int(KeyRef.ACTIVE_AUTHENTICATION), int(KeyRef.CHIP_AUTHENTICATION),
                        *(int(ref) for ref in CERT_ZONE_KEYS)})

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
    elif tag is PutDataTag.CVCA_TRUST_POINT:
        install_trust_point(state, value)
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
    """P1 ``00`` (personalisation): generate key ``P2`` once — AA and CA keys and the certificate-zone
    EC keys on P-521, the certificate-zone RSA keys RSA-2048 — and answer its public key ``7F49``
    (a second call ``6985``). P1 ``81``: answer the existing public key (never the private key)."""
    if apdu.p1 == P1_READ_PUBLIC:
        return certzone.read_public_key(ctx, apdu)
    require_personalisation(ctx)
    if apdu.p1 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "GENERATE ASYMMETRIC KEY PAIR P1 must be 00 or 81")
    if apdu.p2 not in _GENERATED:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, f"no key reference {apdu.p2:02X}")
    ref, state = KeyRef(apdu.p2), ctx.persistent
    existing = {KeyRef.ACTIVE_AUTHENTICATION: state.aa_key, KeyRef.CHIP_AUTHENTICATION: state.ca_key}.get(
        ref, state.cert_keys.get(ref))
    if existing is not None:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, f"the {ref.name} key exists already")
    der = generate_rsa_key() if ref in RSA_KEYS else generate_ec_key(ctx.rng)
    if ref is KeyRef.ACTIVE_AUTHENTICATION:
        state.aa_key = der
    elif ref is KeyRef.CHIP_AUTHENTICATION:
        state.ca_key = der
    else:
        state.cert_keys[ref] = der
    ctx.changed()
    _log.info("%s key generated", ref.name)
    return public_key_do(der)


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
    if not state.cert_keys:  # the citizen opted out of the certificate zone (MGMT-5): close it
        state.cert_zone_closed = True
        for df, ef in fs.all_files():
            if df.zone is not None and df.zone.zone is Zone.CERTIFICATE:
                state.files.pop(file_key(df, ef), None)
        _log.info("no certificate-zone key: the certificate zone is closed")
    state.lifecycle = LifeCycle.OPERATIONAL
    ctx.changed()
    _log.info("card activated")
    return b""
