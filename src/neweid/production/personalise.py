"""Personalisation of a New eID chip by APDUs, as the production centre's personalisation machine does
it (PROD-4, PKI-4, PKI-5): the chip generates its Active Authentication and Chip Authentication keys,
the zones are signed by the Document Signer with the chip's public keys included (DG15, EF.CardSecurity),
the CVCA trust point is installed, the certificate zone is filled unless the citizen opted out
(:mod:`neweid.production.certificates`), the files and secrets are written, and the chip is locked into
its operational state (docs/protocol-profile.md "Life cycle", docs/eac-profile.md).

Exactly as on a real line, the certificate zone is closed (no keys generated, nothing written) when no
certificate issuer is given: the citizen opted out (MGMT-5)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.crypto.ec import NIST_P521, decode_point
from neweid.formats.filemap import (
    EF_CARD_ACCESS_FID,
    EF_CARD_SECURITY_FID,
    EF_DIR_FID,
    EF_SOD_FID,
    ZONES,
    Zone,
    zone_spec,
)
from neweid.formats.iso7816 import Ins, KeyRef, PutDataTag, StatusWord, describe_sw
from neweid.formats.security_infos import (
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfo,
    TerminalAuthenticationInfo,
    encode_security_infos,
)
from neweid.formats.tlv import encode_tlv, find_tlv, parse_tlvs
from neweid.formats.zones import AaPublicKey
from neweid.pki.document_signer import DocumentSigner
from neweid.production.card_data import CardContent, CardSecrets, CertificateHolder, card_date
from neweid.production.certificates import (
    CertificateIssuer,
    CertificateZoneContent,
    CertificateZonePersonaliser,
    IssuerError,
)
from neweid.terminal.apdu import Response
from neweid.terminal.errors import ReaderError
from neweid.terminal.session import CardSession
from neweid.terminal.transport import Transport

__all__ = [
    "CertificateIssuer",
    "IssuerError",
    "PersonalisationError",
    "PersonalisedCard",
    "card_access_infos",
    "card_security_infos",
    "personalise",
]

PACE_PARAMETER_ID = 18  # standardised domain parameters: NIST P-521
CA_KEY_ID = 1  # keyId of the chip's (only) Chip Authentication key
_CHUNK = 0x7000  # bytes per UPDATE BINARY (extended length)


class PersonalisationError(RuntimeError):
    """The chip refused a personalisation step; the message names the step and the status word."""

    def __init__(self, step: str, sw: int) -> None:
        super().__init__(f"personalisation step '{step}' failed: {sw:04X} ({describe_sw(sw)})")
        self.step = step
        self.sw = sw


@dataclass(frozen=True)
class PersonalisedCard:
    """What the personalisation wrote, as the production system records it."""

    content: CardContent
    secrets: CardSecrets
    aa_public_key: ec.EllipticCurvePublicKey
    ca_public_key: ec.EllipticCurvePublicKey | None = None
    certificate_zone: CertificateZoneContent | None = None  # None: the zone is closed (opted out)
    cvca_installed: bool = False


def card_access_infos() -> list[SecurityInfo]:
    """EF.CardAccess: PACE, and the announcement that the chip does TA and CA version 2 (the CA key
    itself is only in the signed EF.CardSecurity)."""
    return [PACEInfo(parameter_id=PACE_PARAMETER_ID), TerminalAuthenticationInfo(2),
            ChipAuthenticationInfo(key_id=CA_KEY_ID)]


def card_security_infos(ca_public_key: ec.EllipticCurvePublicKey | None) -> list[SecurityInfo]:
    """EF.CardSecurity's content: EF.CardAccess's infos, Active Authentication, and the chip's CA key."""
    infos: list[SecurityInfo] = [*card_access_infos(), ActiveAuthenticationInfo()]
    if ca_public_key is not None:
        spki = ca_public_key.public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        infos.append(ChipAuthenticationPublicKeyInfo(spki, key_id=CA_KEY_ID))
    return infos


def _ef_dir() -> bytes:
    return b"".join(
        encode_tlv(0x61, encode_tlv(0x4F, spec.aid) + encode_tlv(0x50, spec.zone.value.encode("ascii")))
        for spec in ZONES
    )


class _Personaliser:
    def __init__(self, session: CardSession) -> None:
        self._session = session

    def _send(self, step: str, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None,
              cla: int = 0x00) -> Response:
        response = self._session.send(cla, ins, p1, p2, data, le)
        if response.sw != StatusWord.SUCCESS:
            raise PersonalisationError(step, response.sw)
        return response

    def generate_aa_key(self) -> ec.EllipticCurvePublicKey:
        return self.generate_ec_key(KeyRef.ACTIVE_AUTHENTICATION, "the Active Authentication key")

    def generate_ec_key(self, ref: KeyRef, what: str) -> ec.EllipticCurvePublicKey:
        step = f"generate {what}"
        response = self._send(step, Ins.GENERATE_ASYMMETRIC_KEY_PAIR, 0x00, ref, le=256)
        template = find_tlv(parse_tlvs(response.data), 0x7F49)
        point_do = None if template is None else find_tlv(template.children(), 0x86)
        if point_do is None:
            raise PersonalisationError(step, StatusWord.WRONG_DATA)
        x, y = decode_point(NIST_P521, point_do.value)
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP521R1()).public_key()

    def send_step(self, step: str, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> Response:
        """``_send`` with the data object of a long command (PUT DATA of a certificate) chained or
        extended as the card allows."""
        response = self._session.send_long(ins, p1, p2, data, le)
        if response.sw != StatusWord.SUCCESS:
            raise PersonalisationError(step, response.sw)
        return response

    def install_trust_point(self, cvca_certificate: bytes) -> None:
        tag = PutDataTag.CVCA_TRUST_POINT
        self.send_step("install the CVCA trust point", Ins.PUT_DATA, tag >> 8, tag & 0xFF,
                       bytes(cvca_certificate), None)

    def select_mf(self) -> None:
        self._send("select MF", Ins.SELECT, 0x00, 0x0C, b"\x3f\x00")

    def select_zone(self, zone: Zone) -> None:
        self._send(f"select {zone.value} zone", Ins.SELECT, 0x04, 0x0C, zone_spec(zone).aid)

    def write_ef(self, fid: int, content: bytes) -> None:
        step = f"write file {fid:04X}"
        self._send(step, Ins.SELECT, 0x02, 0x0C, fid.to_bytes(2, "big"))
        for offset in range(0, len(content), _CHUNK):
            self._send(step, Ins.UPDATE_BINARY, offset >> 8, offset & 0xFF, content[offset:offset + _CHUNK])

    def put_data(self, tag: PutDataTag, value: str) -> None:
        self._send(f"put data {tag.name}", Ins.PUT_DATA, tag >> 8, tag & 0xFF, value.encode("ascii"))

    def activate(self) -> None:
        self.select_mf()
        self._send("activate", Ins.ACTIVATE, 0x00, 0x00)


def personalise(transport: Transport, content: CardContent, secrets: CardSecrets,
                signer: DocumentSigner, *, now: datetime.datetime,
                cvca_certificates: Sequence[bytes] = (),
                certificate_issuer: CertificateIssuer | None = None,
                chip_authentication: bool = True) -> PersonalisedCard:
    """Personalise the blank chip behind ``transport`` (contact interface) and lock it.

    ``cvca_certificates``: encoded CVCA certificates installed as trust points (at most 2; the chip
    then accepts terminals of that EAC PKI). ``certificate_issuer``: the citizen CA; None closes the
    certificate zone (the citizen opted out, MGMT-5). ``chip_authentication``: generate the CA key and
    name it in EF.CardSecurity (False only to make cards of the earlier profile, e.g. in tests).

    Raises :class:`PersonalisationError` when the chip refuses a step, :class:`IssuerError` when the
    issuer's answer is unusable."""
    session = CardSession(transport)
    perso = _Personaliser(session)
    perso.select_mf()
    aa_public_key = perso.generate_aa_key()
    ca_public_key = (perso.generate_ec_key(KeyRef.CHIP_AUTHENTICATION, "the Chip Authentication key")
                     if chip_authentication else None)
    spki = aa_public_key.public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    public = replace(content.public, aa_public_key=AaPublicKey(spki))
    content = replace(content, public=public)

    zones = {
        Zone.HOUSEHOLD: content.household.to_data_groups(),
        Zone.PUBLIC: public.to_data_groups(),
        Zone.ENCRYPTED: content.encrypted.to_data_groups(),
    }
    for zone, groups in zones.items():
        sod = signer.sign_zone(groups, signing_time=now)
        perso.select_zone(zone)
        spec = zone_spec(zone)
        for number, data in groups.items():
            perso.write_ef(spec.data_group(number).fid, data)
        perso.write_ef(EF_SOD_FID, sod)

    certificate_zone = None
    if certificate_issuer is not None:
        cert_perso = CertificateZonePersonaliser(
            perso.send_step, lambda: perso.select_zone(Zone.CERTIFICATE), perso.write_ef)
        try:
            certificate_zone = cert_perso.personalise(certificate_issuer, CertificateHolder.of(content))
        except ReaderError as exc:
            raise PersonalisationError("fill the certificate zone", StatusWord.WRONG_DATA) from exc

    perso.select_mf()
    access_infos = card_access_infos() if chip_authentication else [PACEInfo(parameter_id=PACE_PARAMETER_ID)]
    perso.write_ef(EF_DIR_FID, _ef_dir())
    perso.write_ef(EF_CARD_ACCESS_FID, encode_security_infos(access_infos))
    security_infos = (card_security_infos(ca_public_key) if chip_authentication
                      else [*access_infos, ActiveAuthenticationInfo()])
    perso.write_ef(EF_CARD_SECURITY_FID,
                   signer.sign_card_security(encode_security_infos(security_infos), signing_time=now))

    perso.put_data(PutDataTag.CAN, secrets.can)
    perso.put_data(PutDataTag.MRZ_KEY_SEED, content.mrz_key_seed)
    perso.put_data(PutDataTag.PIN1, secrets.pin1)
    perso.put_data(PutDataTag.PIN2, secrets.pin2)
    perso.put_data(PutDataTag.USER_CODE, secrets.user_code)
    perso.put_data(PutDataTag.CARD_DATE, card_date(now.date()))
    for cvca in cvca_certificates:  # after the card date: a later CVCA effective date advances it
        perso.install_trust_point(cvca)
    perso.activate()
    return PersonalisedCard(content, secrets, aa_public_key, ca_public_key, certificate_zone,
                            bool(cvca_certificates))
