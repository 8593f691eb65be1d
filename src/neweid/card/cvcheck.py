"""How the chip checks CV certificates (TR-03110-3 §2.5, C; docs/eac-profile.md): decoding, the
profile's algorithm and domain parameters, the role order CVCA → DV → terminal, expiry against the
chip's current date, the date update by CVCA and official-DV certificates, and the trust points.

Every refusal is a :class:`CardError` with the status word of the profile: malformed or unsupported
``6A80``, bad signature ``6300``, role not allowed or expired ``6982``.
"""

from __future__ import annotations

import datetime as dt
import logging

from cryptography.hazmat.primitives.asymmetric import ec

from neweid.card.eac import MAX_TRUST_POINTS, TrustedKey, parse_card_date
from neweid.card.errors import CardError
from neweid.card.state import PersistentState
from neweid.crypto.cvc import verify_cv_signature
from neweid.crypto.ec import NIST_P521
from neweid.crypto.errors import CryptoError
from neweid.formats.chat import ID_NEID_TERMINAL, NeidRight, Role, decode_discretionary
from neweid.formats.cvc import ID_TA_ECDSA_SHA_512, CvCertificate, CvcFormatError, decode_cv_certificate
from neweid.formats.dates import to_compact
from neweid.formats.iso7816 import StatusWord
from neweid.formats.tlv import TlvError, encode_tlv

_log = logging.getLogger(__name__)

TAG_CV_CERTIFICATE = 0x7F21
EARLIEST = dt.date(2000, 1, 1)  # a chip that was never given a date trusts no expiry before this

# Which roles a key of a given role may certify (TR-03110-3 §2.5.1).
_MAY_CERTIFY: dict[Role, frozenset[Role]] = {
    Role.CVCA: frozenset({Role.CVCA, Role.DV_OFFICIAL, Role.DV_NON_OFFICIAL}),
    Role.DV_OFFICIAL: frozenset({Role.TERMINAL}),
    Role.DV_NON_OFFICIAL: frozenset({Role.TERMINAL}),
    Role.TERMINAL: frozenset(),
}
_UPDATES_DATE = frozenset({Role.CVCA, Role.DV_OFFICIAL})


def decode_certificate(data: bytes, *, body_and_signature: bool) -> CvCertificate:
    """A CV certificate from ``7F21 {…}`` or, for PSO:Verify Certificate, from ``7F4E … 5F37 …``."""
    raw = encode_tlv(TAG_CV_CERTIFICATE, data) if body_and_signature else data
    try:
        return decode_cv_certificate(raw)
    except (CvcFormatError, TlvError, ValueError) as exc:
        raise CardError(StatusWord.WRONG_DATA, f"malformed CV certificate: {exc}") from None


def _role_and_rights(cert: CvCertificate) -> tuple[Role, NeidRight]:
    chat = cert.body.chat
    if chat.terminal_type != ID_NEID_TERMINAL:
        raise CardError(StatusWord.WRONG_DATA, f"terminal type {chat.terminal_type} not supported")
    try:
        return decode_discretionary(chat.discretionary)
    except ValueError as exc:
        raise CardError(StatusWord.WRONG_DATA, f"bad CHAT: {exc}") from None


def _check_public_key(cert: CvCertificate) -> bytes:
    key = cert.body.public_key
    if key.oid != ID_TA_ECDSA_SHA_512:
        raise CardError(StatusWord.WRONG_DATA, f"public key algorithm {key.oid} not supported")
    domain = key.domain
    if domain is not None and (domain.p, domain.a, domain.b, domain.n) != (
            NIST_P521.p, NIST_P521.a, NIST_P521.b, NIST_P521.n):
        raise CardError(StatusWord.WRONG_DATA, "domain parameters other than P-521")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP521R1(), key.point)
    except ValueError:
        raise CardError(StatusWord.WRONG_DATA, "the certificate's public point is not on P-521") from None
    if key.point[0] != 0x04:
        raise CardError(StatusWord.WRONG_DATA, "the public point must be uncompressed")
    return key.point


def public_key(point: bytes) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP521R1(), point)
    except ValueError:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_USABLE, "stored public key unusable") from None


def _verify_signature(cert: CvCertificate, issuer: TrustedKey) -> None:
    try:
        verify_cv_signature(cert, public_key(issuer.point))
    except CryptoError:
        raise CardError(StatusWord.AUTHENTICATION_FAILED, "certificate signature does not verify") from None


def chip_today(state: PersistentState) -> dt.date:
    """The chip's current date (TR-03110-3 §2.5.2): the latest date it has learned."""
    return parse_card_date(state.card_date) or EARLIEST


def advance_date(state: PersistentState, effective: dt.date) -> bool:
    """Move the chip's date forward to ``effective`` if that is later; whether it moved."""
    if effective <= chip_today(state) and state.card_date is not None:
        return False
    state.card_date = to_compact(effective)
    _log.info("chip date advanced to %s", state.card_date)
    return True


def check_certificate(state: PersistentState, cert: CvCertificate, issuer: TrustedKey) -> TrustedKey:
    """Verify ``cert`` against ``issuer`` (signature, role, expiry) and return its key with the
    effective rights (issuer ∩ certificate; a CVCA link certificate keeps its own CHAT)."""
    if cert.body.car != issuer.chr:
        raise CardError(StatusWord.WRONG_DATA, f"certificate issued by {cert.body.car}, not {issuer.chr}")
    point = _check_public_key(cert)
    role, rights = _role_and_rights(cert)
    _verify_signature(cert, issuer)
    if role not in _MAY_CERTIFY[issuer.role]:
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED,
                        f"a {issuer.role.name} key may not certify a {role.name}")
    today = chip_today(state)
    if cert.body.expiry < today:
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, f"{cert.body.chr} expired")
    if issuer.expiry < today and role is not Role.CVCA:  # an expired CVCA may still link to its successor
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, f"issuer {issuer.chr} expired")
    if cert.body.effective > cert.body.expiry:
        raise CardError(StatusWord.WRONG_DATA, "effective date after the expiry date")
    effective_rights = rights if role is Role.CVCA else issuer.rights & rights
    return TrustedKey(cert.body.chr, point, role, effective_rights, cert.body.effective, cert.body.expiry)


def learn_from(state: PersistentState, key: TrustedKey) -> bool:
    """After a verified certificate: advance the date (CVCA, official DV) and keep a CVCA link key as
    a trust point (at most two, the newest). Whether the persistent state changed."""
    changed = False
    if key.role in _UPDATES_DATE:
        changed = advance_date(state, key.effective)
    if key.role is Role.CVCA:
        changed = add_trust_point(state, key) or changed
    return changed


def add_trust_point(state: PersistentState, key: TrustedKey) -> bool:
    """Store a CVCA key as a trust point; the oldest is dropped beyond two. Whether anything changed."""
    if any(tp == key for tp in state.trust_points):
        return False
    points = [tp for tp in state.trust_points if tp.chr != key.chr] + [key]
    points.sort(key=lambda tp: tp.effective)
    state.trust_points = points[-MAX_TRUST_POINTS:]
    _log.info("trust point %s stored", key.chr)
    return True


def install_trust_point(state: PersistentState, data: bytes) -> None:
    """PUT DATA of a self-signed CVCA certificate during personalisation."""
    cert = decode_certificate(data, body_and_signature=False)
    point = _check_public_key(cert)
    role, rights = _role_and_rights(cert)
    if role is not Role.CVCA or cert.body.car != cert.body.chr:
        raise CardError(StatusWord.WRONG_DATA, "a trust point is a self-signed CVCA certificate")
    if cert.body.public_key.domain is None:
        raise CardError(StatusWord.WRONG_DATA, "a CVCA certificate carries its domain parameters")
    key = TrustedKey(cert.body.chr, point, role, rights, cert.body.effective, cert.body.expiry)
    _verify_signature(cert, key)
    if cert.body.effective > cert.body.expiry:
        raise CardError(StatusWord.WRONG_DATA, "effective date after the expiry date")
    if len(state.trust_points) >= MAX_TRUST_POINTS and all(tp.chr != key.chr for tp in state.trust_points):
        raise CardError(StatusWord.NOT_ENOUGH_MEMORY, f"at most {MAX_TRUST_POINTS} trust points")
    add_trust_point(state, key)
    advance_date(state, key.effective)
