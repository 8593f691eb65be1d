"""The citizen-certificate zone at personalisation (CARD-5, CARD-6, MGMT-5, PKI-1): the chip generates
the four key pairs, the production line builds one PKCS#10 request per key **signed by the chip** (PSO:
COMPUTE DIGITAL SIGNATURE works without PIN2 before ACTIVATE), a :class:`CertificateIssuer` (the citizen
CA) answers each with a certificate, and CERT1..CERT6 are written (root, intermediate, RSA sign, RSA
encrypt, EC sign, EC key agreement).

Every step is an APDU on the personalisation session: no private key ever exists outside the chip.

Proof of possession: the chip signs only with its signing keys (``10``, ``12``), whatever the life-cycle
state (docs/eac-profile.md: a key used for the other purpose answers ``6985``). The requests for the
RSA encryption key and the EC key-agreement key are therefore signed by the chip with the **signing key
of the same family** (RSA sign, EC sign), whose request comes first; the production line vouches for
them (RFC 4211 "raVerified"), and the issuer checks their signature with the public key of that
signing request (:data:`CSR_SIGNING_KEY`, :func:`verify_card_csr`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from asn1crypto import csr as asn1_csr
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from neweid.crypto.aa import plain_to_der
from neweid.crypto.errors import CryptoError
from neweid.formats.filemap import Zone, zone_spec
from neweid.formats.iso7816 import Ins
from neweid.formats.tlv import encode_tlv
from neweid.production.card_data import CertificateHolder
from neweid.terminal.apdu import MAX_EXTENDED_NE, Response
from neweid.terminal.certzone import (
    INTERMEDIATE_CERTIFICATE,
    ROOT_CERTIFICATE,
    CertificateKey,
    PublicKey,
    decode_public_key_template,
    digest_info,
)
from neweid.terminal.errors import ReaderError

__all__ = [
    "CertificateIssuer",
    "CertificateZoneContent",
    "CertificateZonePersonaliser",
    "IssuerError",
    "build_card_csr",
    "csr_subject",
    "verify_card_csr",
]

log = logging.getLogger(__name__)

_MSE_SET_DST = (0x41, 0xB6)
_PSO_CDS = (0x9E, 0x9A)
_SIGNATURE_ALGORITHMS = {True: "sha256_rsa", False: "sha512_ecdsa"}  # by "is RSA"
# The on-card key that signs each key's request (see the module documentation); signing keys first.
CSR_SIGNING_KEY: dict[CertificateKey, CertificateKey] = {
    CertificateKey.RSA_SIGN: CertificateKey.RSA_SIGN,
    CertificateKey.EC_SIGN: CertificateKey.EC_SIGN,
    CertificateKey.RSA_ENCRYPT: CertificateKey.RSA_SIGN,
    CertificateKey.EC_KEY_AGREEMENT: CertificateKey.EC_SIGN,
}


class IssuerError(Exception):
    """The certificate issuer refused a request (the message says why)."""


class CertificateIssuer(Protocol):
    """The citizen CA as production sees it.

    ``issue`` answers a PKCS#10 request (DER) for one of the four keys with a DER certificate (the
    requests come in the order rsa-sign, ec-sign, rsa-encrypt, ec-key-agreement; the last two are
    signed by the first two keys: check them with :func:`verify_card_csr`); ``root_certificate`` and
    ``intermediate_certificate`` are DER certificates written to CERT1/CERT2. Raise
    :class:`IssuerError` to refuse."""

    @property
    def root_certificate(self) -> bytes: ...

    @property
    def intermediate_certificate(self) -> bytes: ...

    def issue(self, csr_der: bytes, usage: CertificateKey, holder: CertificateHolder) -> bytes: ...


@dataclass(frozen=True)
class CertificateZoneContent:
    """What was written to the certificate zone, by CERT number (DER), and the on-card public keys."""

    certificates: dict[int, bytes]
    public_keys: dict[CertificateKey, PublicKey]


Send = Callable[[str, int, int, int, bytes, int | None], Response]


def csr_subject(holder: CertificateHolder) -> asn1_x509.Name:
    """The subject the production line asks for: C=TW, CN=the Chinese name, serialNumber=the card
    serial (the CA may replace it by its own profile; the ID number is never put in a certificate)."""
    return asn1_x509.Name.build({"country_name": "TW", "common_name": holder.chinese_name,
                                 "serial_number": holder.card_serial}, use_printable=False)


def _spki(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _hash(data: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def verify_card_csr(csr_der: bytes, usage: CertificateKey,
                    signing_public_key: PublicKey | None = None) -> x509.CertificateSigningRequest:
    """Load a production request and check its signature: with its own key for the signing keys, with
    ``signing_public_key`` (the key of the same family's signing request) for the other two.
    :class:`IssuerError` if it does not verify."""
    try:
        csr = x509.load_der_x509_csr(csr_der)
    except ValueError as exc:
        raise IssuerError(f"the {usage.value} request is not DER PKCS#10: {exc}") from exc
    if CSR_SIGNING_KEY[usage] is usage:
        if not csr.is_signature_valid:
            raise IssuerError(f"the {usage.value} request's signature does not verify")
        return csr
    if signing_public_key is None:
        raise IssuerError(f"the {usage.value} request is signed by the {CSR_SIGNING_KEY[usage].value} key: "
                          "give its public key")
    algorithm = csr.signature_hash_algorithm
    if algorithm is None:
        raise IssuerError(f"the {usage.value} request has no hash algorithm")
    try:
        if isinstance(signing_public_key, rsa.RSAPublicKey):
            signing_public_key.verify(csr.signature, csr.tbs_certrequest_bytes, padding.PKCS1v15(), algorithm)
        else:
            signing_public_key.verify(csr.signature, csr.tbs_certrequest_bytes, ec.ECDSA(algorithm))
    except InvalidSignature as exc:
        raise IssuerError(f"the {usage.value} request is not signed by the card's "
                          f"{CSR_SIGNING_KEY[usage].value} key") from exc
    return csr


def build_card_csr(usage: CertificateKey, public_key: PublicKey, holder: CertificateHolder,
                   card_sign: Callable[[CertificateKey, bytes], bytes],
                   signing_public_key: PublicKey | None = None) -> bytes:
    """A DER PKCS#10 request for ``public_key`` (the ``usage`` key) whose signature the chip makes
    with the key ``CSR_SIGNING_KEY[usage]`` through ``card_sign(key, input)``: ``input`` is the DER
    DigestInfo of SHA-256(CertificationRequestInfo) for RSA keys (answer: the PKCS#1 v1.5 signature)
    or SHA-512 of it for EC keys (answer: plain ``r ‖ s``). ``signing_public_key``: the public key of
    that signing key when it is not ``public_key`` itself (to check the chip's answer)."""
    signer = CSR_SIGNING_KEY[usage]
    is_rsa = usage.is_rsa
    if is_rsa != isinstance(public_key, rsa.RSAPublicKey) or (
            not is_rsa and not isinstance(public_key, ec.EllipticCurvePublicKey)):
        raise IssuerError(f"the {usage.value} key has the wrong type")
    info = asn1_csr.CertificationRequestInfo({
        "version": "v1",
        "subject": csr_subject(holder),
        "subject_pk_info": asn1_keys.PublicKeyInfo.load(_spki(public_key)),
        "attributes": [],
    })
    tbs = info.dump()
    if is_rsa:
        signature = card_sign(signer, digest_info(_hash(tbs, hashes.SHA256()), hashes.SHA256()))
    else:
        try:
            signature = plain_to_der(card_sign(signer, _hash(tbs, hashes.SHA512())))
        except CryptoError as exc:
            raise ReaderError(f"the chip's signature of the {usage.value} request is malformed") from exc
    request = asn1_csr.CertificationRequest({
        "certification_request_info": info,
        "signature_algorithm": {"algorithm": _SIGNATURE_ALGORITHMS[is_rsa]},
        "signature": signature,
    })
    der = bytes(request.dump())
    try:
        verify_card_csr(der, usage, public_key if signer is usage else signing_public_key)
    except IssuerError as exc:
        raise ReaderError(f"the chip's signature of the {usage.value} request does not verify") from exc
    return der


class CertificateZonePersonaliser:
    """Drives the personalisation APDUs of the certificate zone through ``send(step, ins, p1, p2, data,
    le)``, which raises on any status word but 9000."""

    def __init__(self, send: Send, select_zone: Callable[[], None],
                 write_ef: Callable[[int, bytes], None]) -> None:
        self._send = send
        self._select_zone = select_zone
        self._write_ef = write_ef

    def generate(self, usage: CertificateKey) -> PublicKey:
        response = self._send(f"generate the {usage.value} key", Ins.GENERATE_ASYMMETRIC_KEY_PAIR, 0x00,
                              usage.key_ref, b"", MAX_EXTENDED_NE)
        try:
            return decode_public_key_template(response.data)
        except ReaderError as exc:
            raise ReaderError(f"generate the {usage.value} key: {exc}") from exc

    def card_sign(self, usage: CertificateKey, payload: bytes) -> bytes:
        self._send(f"select the {usage.value} key", Ins.MANAGE_SECURITY_ENVIRONMENT, *_MSE_SET_DST,
                   encode_tlv(0x84, bytes((usage.key_ref,))), None)
        response = self._send(f"sign the {usage.value} request", Ins.PERFORM_SECURITY_OPERATION,
                              *_PSO_CDS, payload, MAX_EXTENDED_NE)
        return response.data

    def personalise(self, issuer: CertificateIssuer, holder: CertificateHolder) -> CertificateZoneContent:
        """Generate the 4 keys, have their requests signed by the chip and certified, write CERT1..6."""
        self._select_zone()
        public_keys = {usage: self.generate(usage) for usage in CertificateKey}
        certificates = {ROOT_CERTIFICATE: bytes(issuer.root_certificate),
                        INTERMEDIATE_CERTIFICATE: bytes(issuer.intermediate_certificate)}
        for usage in CSR_SIGNING_KEY:  # signing keys first
            public_key = public_keys[usage]
            csr = build_card_csr(usage, public_key, holder, self.card_sign,
                                 public_keys[CSR_SIGNING_KEY[usage]])
            certificate = bytes(issuer.issue(csr, usage, holder))
            _check_certificate(certificate, public_key, usage)
            certificates[usage.certificate_number] = certificate
        spec = zone_spec(Zone.CERTIFICATE)
        for number, der in sorted(certificates.items()):
            self._write_ef(spec.file_by_name(f"CERT{number}").fid, der)
        log.info("certificate zone personalised: 4 on-card keys, %d certificates", len(certificates))
        return CertificateZoneContent(certificates, public_keys)


def _check_certificate(der: bytes, public_key: PublicKey, usage: CertificateKey) -> None:
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise IssuerError(f"the issuer's {usage.value} certificate is not DER X.509: {exc}") from exc
    certified = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    if certified != _spki(public_key):
        raise IssuerError(f"the issuer's {usage.value} certificate is for another key")
    if len(der) > zone_spec(Zone.CERTIFICATE).file_by_name(f"CERT{usage.certificate_number}").max_size:
        raise IssuerError(f"the {usage.value} certificate is larger than its file")

