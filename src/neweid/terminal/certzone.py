"""The citizen-certificate zone (自然人憑證區) from the host: certificates, public keys and the four
on-card private keys used after PIN2 (CARD-5, CARD-6; docs/eac-profile.md "Certificate zone").

The private keys never leave the chip: hashing and encoding happen here, the chip only applies its key.

- RSA signing (``10``): the host hashes and sends a DER ``DigestInfo``; the chip applies PKCS#1 v1.5.
- EC signing (``12``): the host sends the hash; the chip answers plain ``r ‖ s``, which is returned
  here as a DER ``ECDSA-Sig-Value`` so that any X.509 toolkit verifies it.
- RSA decipher (``11``): PKCS#1 v1.5 ciphertext in, plaintext out.
- ECDH (``13``): the peer's public point in, the shared x-coordinate out.

Reading certificates and public keys needs secure messaging (PACE with the CAN) on the contact
interface but no PIN; every private-key operation needs PIN2 verified in the session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from asn1crypto import algos, core
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from neweid.crypto.aa import plain_to_der
from neweid.crypto.errors import CryptoError
from neweid.formats.filemap import Interface, Zone, zone_spec
from neweid.formats.iso7816 import Ins, KeyRef, StatusWord, describe_sw
from neweid.formats.tlv import TlvError, encode_tlv, find_tlv, parse_tlvs
from neweid.terminal.apdu import MAX_EXTENDED_NE, MAX_SHORT_NE, Response
from neweid.terminal.errors import (
    AccessDenied,
    CardStatusError,
    DataTampered,
    InterfaceNotAllowed,
    InvalidInputError,
    ReaderError,
    ZoneClosed,
)
from neweid.terminal.session import CardSession

__all__ = [
    "CertificateKey",
    "CertificateZone",
    "PublicKey",
    "digest_info",
]

log = logging.getLogger(__name__)

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

_GENERATE_READ_PUBLIC = 0x81  # GENERATE ASYMMETRIC KEY PAIR P1: return the existing public key
_MSE_SET_DST, _MSE_SET_CT, _MSE_SET_AT = (0x41, 0xB6), (0x41, 0xB8), (0x41, 0xA4)
_PSO_CDS, _PSO_DECIPHER = (0x9E, 0x9A), (0x80, 0x86)
_TAG_KEY_REF, _TAG_PUBLIC_KEY = 0x84, 0x7F49
_TAG_MODULUS, _TAG_EXPONENT, _TAG_POINT = 0x81, 0x82, 0x86
_DYNAMIC_AUTH_DATA, _GA_PEER_KEY, _GA_SHARED = 0x7C, 0x85, 0x82
_PADDING_INDICATOR = b"\x00"  # PSO: DECIPHER data field: padding-indicator byte 00 ‖ cryptogram
_HASH_NAMES = {"sha224": "sha224", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}


class CertificateKey(StrEnum):
    """The four citizen-certificate key pairs, by their CLI names."""

    RSA_SIGN = "rsa-sign"
    RSA_ENCRYPT = "rsa-encrypt"
    EC_SIGN = "ec-sign"
    EC_KEY_AGREEMENT = "ec-key-agreement"

    @property
    def key_ref(self) -> KeyRef:
        return _KEY_REFS[self]

    @property
    def certificate_number(self) -> int:
        """The CERTn file holding this key's certificate (CERT1 root, CERT2 intermediate)."""
        return _CERT_NUMBERS[self]

    @property
    def is_rsa(self) -> bool:
        return self in (CertificateKey.RSA_SIGN, CertificateKey.RSA_ENCRYPT)

    @property
    def default_hash(self) -> hashes.HashAlgorithm:
        """SHA-256 for RSA-2048, SHA-512 for P-521."""
        return hashes.SHA256() if self.is_rsa else hashes.SHA512()


_KEY_REFS = {CertificateKey.RSA_SIGN: KeyRef.RSA_SIGN, CertificateKey.RSA_ENCRYPT: KeyRef.RSA_ENCRYPT,
             CertificateKey.EC_SIGN: KeyRef.EC_SIGN, CertificateKey.EC_KEY_AGREEMENT: KeyRef.EC_KEY_AGREEMENT}
_CERT_NUMBERS = {CertificateKey.RSA_SIGN: 3, CertificateKey.RSA_ENCRYPT: 4, CertificateKey.EC_SIGN: 5,
                 CertificateKey.EC_KEY_AGREEMENT: 6}
ROOT_CERTIFICATE, INTERMEDIATE_CERTIFICATE = 1, 2


def digest_info(digest: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
    """DER ``DigestInfo { AlgorithmIdentifier, OCTET STRING digest }`` (RFC 8017 §9.2) for PKCS#1 v1.5."""
    name = _HASH_NAMES.get(algorithm.name)
    if name is None:
        raise InvalidInputError(f"unsupported hash {algorithm.name} (SHA-224/256/384/512)")
    if len(digest) != algorithm.digest_size:
        raise InvalidInputError(f"a {algorithm.name} digest has {algorithm.digest_size} bytes, "
                                f"not {len(digest)}")
    info = algos.DigestInfo({"digest_algorithm": {"algorithm": name, "parameters": core.Null()},
                             "digest": digest})
    return bytes(info.dump())


def _hash(data: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(bytes(data))
    return h.finalize()


class CertificateZone:
    """Operations of the certificate zone over an open (PACE) session on the contact interface.

    ``verify_pin2`` is the reader's PIN verification (so PIN errors keep one mapping)."""

    def __init__(self, session: CardSession, verify_pin2: Callable[[str], None]) -> None:
        self._session = session
        self._verify_pin2 = verify_pin2

    def _long_le(self) -> int:
        return MAX_EXTENDED_NE if self._session.extended_length else MAX_SHORT_NE

    def _check(self, response: Response, what: str) -> None:
        sw = response.sw
        if sw == StatusWord.SUCCESS:
            return
        if sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED:
            raise AccessDenied(sw, what)
        if sw == StatusWord.CONDITIONS_NOT_SATISFIED and self._session.interface is Interface.CONTACTLESS:
            raise InterfaceNotAllowed(sw, what)
        raise CardStatusError(sw, f"{what}: card answered {sw:04X} ({describe_sw(sw)})")

    def select(self) -> None:
        """Select the zone's DF; :class:`ZoneClosed` when the citizen opted out of the certificate."""
        try:
            self._session.select_aid(zone_spec(Zone.CERTIFICATE).aid)
        except CardStatusError as exc:
            if exc.sw == StatusWord.FILE_NOT_FOUND:
                raise ZoneClosed(Zone.CERTIFICATE.value) from exc
            raise

    def verify_pin2(self, pin2: str) -> None:
        """VERIFY PIN2 (8-12 digits); the PIN errors of :meth:`NewEidReader.verify_pin`."""
        self._verify_pin2(pin2)

    # -- certificates and public keys ------------------------------------------------------------
    def read_certificate_der(self, number: int) -> bytes | None:
        """CERTn (1 root, 2 intermediate, 3-6 the key certificates) as DER, None when not written."""
        spec = zone_spec(Zone.CERTIFICATE)
        if number not in {f.sfi for f in spec.files}:
            raise InvalidInputError(f"the certificate zone has CERT1..CERT{len(spec.files)}, "
                                    f"not CERT{number}")
        self.select()
        try:
            data = self._session.read_binary_file(sfi=number)
        except CardStatusError as exc:
            if exc.sw == StatusWord.FILE_NOT_FOUND:
                return None
            raise
        return data or None

    def read_certificate(self, number: int) -> x509.Certificate | None:
        der = self.read_certificate_der(number)
        if der is None:
            return None
        try:
            return x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise DataTampered(number, "MALFORMED", f"CERT{number} is not an X.509 certificate") from exc

    def certificates(self) -> dict[int, x509.Certificate]:
        """Every certificate written, by CERT number."""
        result: dict[int, x509.Certificate] = {}
        for spec in zone_spec(Zone.CERTIFICATE).files:
            cert = self.read_certificate(spec.sfi)
            if cert is not None:
                result[spec.sfi] = cert
        return result

    def certificate_for(self, key: CertificateKey) -> x509.Certificate:
        cert = self.read_certificate(key.certificate_number)
        if cert is None:
            raise CardStatusError(StatusWord.FILE_NOT_FOUND, f"no certificate for the {key.value} key")
        return cert

    def public_key(self, key: CertificateKey) -> PublicKey:
        """The key's public half, straight from the chip (GENERATE ASYMMETRIC KEY PAIR P1 81)."""
        self.select()
        response = self._session.send(0x00, Ins.GENERATE_ASYMMETRIC_KEY_PAIR, _GENERATE_READ_PUBLIC,
                                      key.key_ref, le=self._long_le())
        self._check(response, f"read the {key.value} public key")
        return decode_public_key_template(response.data)

    # -- private-key operations (PIN2) -----------------------------------------------------------
    def _set_key(self, p1p2: tuple[int, int], key: CertificateKey, what: str) -> None:
        response = self._session.send(0x00, Ins.MANAGE_SECURITY_ENVIRONMENT, *p1p2,
                                      encode_tlv(_TAG_KEY_REF, bytes((key.key_ref,))))
        self._check(response, what)

    def sign_digest(self, digest: bytes, key: CertificateKey = CertificateKey.RSA_SIGN,
                    algorithm: hashes.HashAlgorithm | None = None) -> bytes:
        """Sign a precomputed hash with an on-card signing key (PIN2 must be verified)."""
        if key not in (CertificateKey.RSA_SIGN, CertificateKey.EC_SIGN):
            raise InvalidInputError(f"{key.value} is not a signing key (rsa-sign or ec-sign)")
        algorithm = algorithm or key.default_hash
        if len(digest) != algorithm.digest_size:
            raise InvalidInputError(f"a {algorithm.name} digest has {algorithm.digest_size} bytes")
        self.select()
        self._set_key(_MSE_SET_DST, key, f"select the {key.value} key")
        payload = digest_info(digest, algorithm) if key.is_rsa else digest
        response = self._session.send(0x00, Ins.PERFORM_SECURITY_OPERATION, *_PSO_CDS, payload,
                                      self._long_le())
        self._check(response, f"sign with the {key.value} key")
        if key.is_rsa:
            return response.data
        try:
            return plain_to_der(response.data)
        except CryptoError as exc:
            raise ReaderError(f"the chip's EC signature is malformed: {exc}") from exc

    def sign(self, data: bytes, key: CertificateKey = CertificateKey.RSA_SIGN,
             algorithm: hashes.HashAlgorithm | None = None) -> bytes:
        """Hash ``data`` on the host and sign the hash on the card. RSA: PKCS#1 v1.5 (SHA-256 unless
        told); EC: ECDSA (SHA-512 unless told), returned DER-encoded."""
        algorithm = algorithm or key.default_hash
        signature = self.sign_digest(_hash(data, algorithm), key, algorithm)
        log.info("the card signed %d bytes with its %s key", len(data), key.value)
        return signature

    def decipher(self, ciphertext: bytes) -> bytes:
        """PKCS#1 v1.5 decryption with the RSA encryption key (PIN2 must be verified)."""
        if not ciphertext:
            raise InvalidInputError("nothing to decipher")
        self.select()
        self._set_key(_MSE_SET_CT, CertificateKey.RSA_ENCRYPT, "select the rsa-encrypt key")
        response = self._session.send_long(Ins.PERFORM_SECURITY_OPERATION, *_PSO_DECIPHER,
                                           _PADDING_INDICATOR + bytes(ciphertext), self._long_le())
        if response.sw == StatusWord.WRONG_DATA:
            raise CardStatusError(response.sw, "decipher: the ciphertext is not for this key (padding error)")
        self._check(response, "decipher with the rsa-encrypt key")
        return response.data

    def ecdh(self, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        """ECDH with the key-agreement key: the x-coordinate of SK·peer (PIN2 must be verified)."""
        if not isinstance(peer_public_key, ec.EllipticCurvePublicKey):
            raise InvalidInputError("the peer key must be an EC public key")
        numbers = peer_public_key.public_numbers()
        size = (peer_public_key.curve.key_size + 7) // 8
        point = b"\x04" + numbers.x.to_bytes(size, "big") + numbers.y.to_bytes(size, "big")
        self.select()
        self._set_key(_MSE_SET_AT, CertificateKey.EC_KEY_AGREEMENT, "select the ec-key-agreement key")
        response = self._session.send(0x00, Ins.GENERAL_AUTHENTICATE, 0x00, 0x00,
                                      encode_tlv(_DYNAMIC_AUTH_DATA, encode_tlv(_GA_PEER_KEY, point)),
                                      MAX_SHORT_NE)
        self._check(response, "key agreement with the ec-key-agreement key")
        try:
            template = find_tlv(parse_tlvs(response.data), _DYNAMIC_AUTH_DATA)
            shared = None if template is None else find_tlv(template.children(), _GA_SHARED)
        except TlvError as exc:
            raise ReaderError(f"malformed key-agreement response: {exc}") from exc
        if shared is None:
            raise ReaderError("the key-agreement response lacks the shared secret (82)")
        return shared.value


def decode_public_key_template(data: bytes) -> PublicKey:
    """``7F49 {81 modulus, 82 exponent}`` → RSA key; ``7F49 {86 04‖X‖Y}`` → EC key (P-521, or the curve
    whose coordinate size matches)."""
    try:
        template = find_tlv(parse_tlvs(data), _TAG_PUBLIC_KEY)
        items = template.children() if template is not None else None
    except TlvError as exc:
        raise ReaderError(f"malformed public key template: {exc}") from exc
    if items is None:
        raise ReaderError("the card's answer holds no public key template (7F49)")
    modulus, exponent, point = (find_tlv(items, t) for t in (_TAG_MODULUS, _TAG_EXPONENT, _TAG_POINT))
    try:
        if modulus is not None and exponent is not None:
            return rsa.RSAPublicNumbers(int.from_bytes(exponent.value, "big"),
                                        int.from_bytes(modulus.value, "big")).public_key()
        if point is not None:
            curve = _curve_for_point(point.value)
            return ec.EllipticCurvePublicKey.from_encoded_point(curve, point.value)
    except ValueError as exc:
        raise ReaderError(f"the card's public key is invalid: {exc}") from exc
    raise ReaderError("the public key template has neither 81/82 nor 86")


def _curve_for_point(encoded: bytes) -> ec.EllipticCurve:
    curves: dict[int, ec.EllipticCurve] = {65: ec.SECP256R1(), 97: ec.SECP384R1(), 133: ec.SECP521R1()}
    try:
        return curves[len(encoded)]
    except KeyError:
        raise ValueError(f"no supported curve has {len(encoded)}-byte points") from None
