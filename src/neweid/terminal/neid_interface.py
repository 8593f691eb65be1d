"""The N_eID-Interface of table 11 (GetCertificate, SignRequest, VerifyRequest, ShowViewer, EncryptRequest,
DecryptRequest) over the citizen-certificate library (:mod:`neweid.terminal.p11`).

- SignRequest builds a CMS ``SignedData`` (RFC 5652) whose signed attributes are contentType,
  messageDigest and signingTime; the card signs the DER of those attributes with PIN2 (RSA PKCS#1 v1.5
  SHA-256 with ``rsa-sign``, ECDSA P-521 SHA-512 with ``ec-sign``). The signer certificate and the chain
  read from the card (CERT2 intermediate, CERT1 root) travel in the message.
- VerifyRequest checks such a message on the host (no card): digest, signature, and the certificate chain
  up to caller-given trust anchors.
- EncryptRequest makes a CMS ``EnvelopedData``: AES-256-CBC content, the key transported with
  RSAES-PKCS1-v1_5 (what the card's PSO: DECIPHER undoes) to the recipient's encryption certificate.
- DecryptRequest deciphers the content-encryption key on the card (``rsa-encrypt``, PIN2) and the content
  on the host.
- ShowViewer renders what is about to be signed, or what a CMS message holds, as plain text: the text a
  trusted-viewer UI shows the citizen before PIN2 is asked for.

Example::

    neid = NeidInterface(lib, slot_id=0, can=can)
    signed = neid.sign_request(document, pin2)
    result = NeidInterface.verify_request(signed, document, trust_anchors=[root])
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding

from neweid.terminal.certzone import INTERMEDIATE_CERTIFICATE, ROOT_CERTIFICATE, CertificateKey
from neweid.terminal.p11 import CitizenCertificateLibrary, KeyType
from neweid.terminal.p11_errors import Ckr, P11Error

__all__ = [
    "Algorithm",
    "CmsError",
    "NeidInterface",
    "NeidInterfaceError",
    "SignatureNotTrustedError",
    "Usage",
    "VerifiedSignature",
]

log = logging.getLogger(__name__)

_AES_KEY_LENGTH = 32
_AES_BLOCK = 16
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_AES_CBC = {"aes128_cbc": 16, "aes192_cbc": 24, "aes256_cbc": 32}
_SIGNING_KEYS = (CertificateKey.RSA_SIGN, CertificateKey.EC_SIGN)
_PREVIEW_CHARS = 200


class NeidInterfaceError(P11Error):
    """A failure of the N_eID-Interface (a :class:`P11Error`, so one ``except`` covers the library)."""


class CmsError(NeidInterfaceError, ValueError):
    """The CMS message is malformed, of another type, or uses an unsupported algorithm."""

    def __init__(self, detail: str, code: Ckr = Ckr.DATA_INVALID) -> None:
        super().__init__(code, f"CMS message rejected: {detail}")


class SignatureNotTrustedError(NeidInterfaceError):
    """The signature does not verify, or its certificate does not chain to a trust anchor."""

    def __init__(self, detail: str) -> None:
        super().__init__(Ckr.SIGNATURE_INVALID, f"signature not accepted: {detail}")


class Usage(StrEnum):
    SIGN = "sign"
    ENCRYPT = "encrypt"


class Algorithm(StrEnum):
    RSA = "rsa"
    EC = "ec"


@dataclass(frozen=True)
class VerifiedSignature:
    """VerifyRequest's answer: who signed, when (the signer's claim), and the validated chain
    (signer first, trust anchor last)."""

    signer_subject: str
    signing_time: dt.datetime | None
    chain: tuple[x509.Certificate, ...]
    content: bytes
    digest_algorithm: str

    @property
    def signer_certificate(self) -> x509.Certificate:
        return self.chain[0]


def _digest(name: str, data: bytes) -> bytes:
    h = hashes.Hash(_HASHES[name]())
    h.update(data)
    return h.finalize()


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def _load_content_info(der: bytes, expected: str) -> cms.ContentInfo:
    try:
        info = cms.ContentInfo.load(bytes(der), strict=True)
        kind = info["content_type"].native
        if kind != expected:
            raise CmsError(f"expected {expected}, got {kind}")
        info["content"].native  # noqa: B018 - parse everything now, so that errors surface here
    except CmsError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise CmsError(f"not a DER CMS ContentInfo ({exc})") from exc
    return info


def _issuer_serial_matches(sid: cms.IssuerAndSerialNumber, cert: x509.Certificate) -> bool:
    ours = _to_asn1(cert)
    return bool(sid["issuer"] == ours.issuer and sid["serial_number"].native == ours.serial_number)


class NeidInterface:
    """The six N_eID-Interface requests over one slot of ``library``.

    ``can``: when given, the secure channel is opened with it before the first request (otherwise the
    caller opens it, :meth:`CitizenCertificateLibrary.open_session`). ``clock`` gives the signing time;
    ``rng`` the AES keys and IVs."""

    def __init__(self, library: CitizenCertificateLibrary, slot_id: int = 0, *, can: str | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 rng: Callable[[int], bytes] = os.urandom) -> None:
        self._library = library
        self._slot = slot_id
        self._can = can
        self._clock = clock
        self._rng = rng

    def _ensure_session(self) -> None:
        if self._can is not None:
            self._library.open_session(self._slot, can=self._can)
            self._can = None

    def _login(self, pin2: str) -> None:
        self._ensure_session()
        self._library.login_token(self._slot, pin2)

    # -- GetCertificate -------------------------------------------------------------------------------------
    def get_certificate(self, usage: Usage | str = Usage.SIGN,
                        algorithm: Algorithm | str = Algorithm.RSA) -> x509.Certificate:
        """GetCertificate: the citizen's signing or encryption certificate (``encrypt`` with ``ec`` is the
        key-agreement certificate)."""
        try:
            usage, algorithm = Usage(usage), Algorithm(algorithm)
        except ValueError as exc:
            raise NeidInterfaceError(Ckr.ARGUMENTS_BAD, f"bad certificate selector: {exc}") from exc
        self._ensure_session()
        key_type = KeyType.RSA_2048 if algorithm is Algorithm.RSA else KeyType.EC_P521
        if usage is Usage.SIGN:
            return self._library.get_signature_cert(self._slot, key_type)
        return self._library.get_encipherment_cert(self._slot, key_type)

    # -- SignRequest ----------------------------------------------------------------------------------------
    def sign_request(self, data: bytes, pin2: str, *, key: CertificateKey | str = CertificateKey.RSA_SIGN,
                     detached: bool = True) -> bytes:
        """SignRequest: a DER CMS ``SignedData`` over ``data``, signed on the card after PIN2.
        ``detached``: leave the content out (the verifier supplies it)."""
        try:
            key_id = CertificateKey(key)
        except ValueError as exc:
            raise NeidInterfaceError(Ckr.ARGUMENTS_BAD, f"unknown key {key!r}") from exc
        if key_id not in _SIGNING_KEYS:
            raise NeidInterfaceError(Ckr.KEY_FUNCTION_NOT_PERMITTED, f"{key_id.value} is not a signing key")
        data = bytes(data)
        self._login(pin2)
        handle = self._library.get_key(self._slot, key_id)
        signer = self._library.get_cert(self._slot, key_id.certificate_number)
        chain = [self._library.get_cert(self._slot, n) for n in (INTERMEDIATE_CERTIFICATE, ROOT_CERTIFICATE)]
        digest_name = "sha256" if key_id.is_rsa else "sha512"
        signing_time = self._clock().astimezone(dt.UTC).replace(microsecond=0)
        attributes = [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}),
            cms.CMSAttribute({"type": "message_digest", "values": [_digest(digest_name, data)]}),
        ]
        signed_attrs = cms.CMSAttributes(sorted(attributes, key=lambda a: bytes(a.dump())))  # DER SET OF
        signature = self._library.basic_sign(handle, bytes(signed_attrs.dump()), _HASHES[digest_name]())
        signer_cert = _to_asn1(signer)
        signer_info = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": signer_cert.issuer, "serial_number": signer_cert.serial_number})}),
            "digest_algorithm": {"algorithm": digest_name},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15" if key_id.is_rsa else "sha512_ecdsa"},
            "signature": signature,
        })
        signed_data = cms.SignedData({
            "version": "v1",
            "digest_algorithms": [{"algorithm": digest_name}],
            "encap_content_info": {"content_type": "data", "content": None if detached else data},
            "certificates": [signer_cert, *(_to_asn1(c) for c in chain)],
            "signer_infos": [signer_info],
        })
        log.info("signed %d bytes with %s on slot %d", len(data), key_id.value, self._slot)
        return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())

    # -- VerifyRequest --------------------------------------------------------------------------------------
    @staticmethod
    def verify_request(cms_der: bytes, data: bytes | None = None, *,
                       trust_anchors: Sequence[x509.Certificate],
                       at: dt.datetime | None = None) -> VerifiedSignature:
        """VerifyRequest: check a CMS ``SignedData`` (``data`` for a detached one) and its signer's chain up
        to ``trust_anchors``, validity checked at ``at`` (default: now). Raises :class:`CmsError` for a
        malformed message, :class:`SignatureNotTrustedError` when it does not verify or is not trusted."""
        signed = _load_content_info(cms_der, "signed_data")["content"]
        content = _content(signed, data)
        infos = signed["signer_infos"]
        if len(infos) != 1:
            raise CmsError(f"expected one signer, found {len(infos)}")
        info = infos[0]
        certs = _certificates(signed)
        sid = info["sid"]
        if sid.name != "issuer_and_serial_number":
            raise CmsError("only issuerAndSerialNumber signer identifiers are supported")
        signer = next((c for c in certs if _issuer_serial_matches(sid.chosen, c)), None)
        if signer is None:
            raise SignatureNotTrustedError("the signer's certificate is not in the message")
        digest_name = info["digest_algorithm"]["algorithm"].native
        if digest_name not in _HASHES:
            raise CmsError(f"unsupported digest algorithm {digest_name}")
        signing_time = _check_attributes(info, digest_name, content)
        _check_signature(info, signer, digest_name)
        chain = _build_chain(signer, certs, trust_anchors, at or dt.datetime.now(dt.UTC))
        return VerifiedSignature(signer.subject.rfc4514_string(), signing_time, chain, content, digest_name)

    # -- EncryptRequest / DecryptRequest --------------------------------------------------------------------
    def encrypt_request(self, data: bytes, recipient_certificate: x509.Certificate) -> bytes:
        """EncryptRequest: a DER CMS ``EnvelopedData`` of ``data`` for the holder of the RSA encryption
        certificate (AES-256-CBC, key transport RSAES-PKCS1-v1_5)."""
        public = _rsa_key(recipient_certificate)
        key, iv = self._rng(_AES_KEY_LENGTH), self._rng(_AES_BLOCK)
        padder = sym_padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padder.update(bytes(data)) + padder.finalize()) + encryptor.finalize()
        recipient = _to_asn1(recipient_certificate)
        ktri = cms.KeyTransRecipientInfo({
            "version": "v0",
            "rid": cms.RecipientIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": recipient.issuer, "serial_number": recipient.serial_number})}),
            "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15", "parameters": core.Null()},
            "encrypted_key": public.encrypt(key, padding.PKCS1v15()),
        })
        enveloped = cms.EnvelopedData({
            "version": "v0",
            "recipient_infos": [cms.RecipientInfo({"ktri": ktri})],
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": "aes256_cbc", "parameters": iv},
                "encrypted_content": ciphertext},
        })
        return bytes(cms.ContentInfo({"content_type": "enveloped_data", "content": enveloped}).dump())

    def decrypt_request(self, enveloped_der: bytes, pin2: str) -> bytes:
        """DecryptRequest: open a CMS ``EnvelopedData`` addressed to the card's RSA encryption certificate;
        the content-encryption key is deciphered on the card after PIN2."""
        enveloped = _load_content_info(enveloped_der, "enveloped_data")["content"]
        self._login(pin2)
        certificate = self._library.get_encipherment_cert(self._slot)
        ktri = _recipient_for(enveloped, certificate)
        handle = self._library.get_encipherment_key(self._slot)
        key = self._library.basic_asym_decrypt(handle, ktri["encrypted_key"].native)
        return _decrypt_content(enveloped["encrypted_content_info"], key)

    # -- ShowViewer -----------------------------------------------------------------------------------------
    @staticmethod
    def show_viewer(data_or_cms: bytes) -> str:
        """ShowViewer: the trusted-viewer text a UI shows before PIN2 is asked for (what is about to be
        signed) or after (what was signed): content type, size, SHA-256, signer and signing time when
        the input is a CMS message, and a text preview when the content is UTF-8. Nothing is verified
        here; use :meth:`verify_request` for that."""
        raw = bytes(data_or_cms)
        lines: list[str] = []
        content: bytes | None = raw
        kind = _cms_kind(raw)
        if kind == "signed_data":
            signed = cms.ContentInfo.load(raw)["content"]
            encap = signed["encap_content_info"]["content"]
            content = None if encap.native is None else bytes(encap.native)
            lines.append("Message: CMS SignedData" + (" (detached: content not included)" if content is None
                                                       else ""))
            lines.extend(_signer_lines(signed))
        elif kind == "enveloped_data":
            enveloped = cms.ContentInfo.load(raw)["content"]
            algo = enveloped["encrypted_content_info"]["content_encryption_algorithm"]["algorithm"].native
            lines.append(f"Message: CMS EnvelopedData (encrypted with {algo}, "
                         f"{len(enveloped['recipient_infos'])} recipient(s))")
            content = None
        else:
            lines.append("Message: data to be signed")
        if content is not None:
            lines.append(f"Content type: {_content_type(content)}")
            lines.append(f"Size: {len(content)} bytes")
            lines.append(f"SHA-256: {hashlib.sha256(content).hexdigest()}")
            preview = _preview(content)
            if preview is not None:
                lines.append(f"Text: {preview}")
        return "\n".join(lines) + "\n"


# -- helpers of VerifyRequest ----------------------------------------------------------------------------
def _content(signed: cms.SignedData, data: bytes | None) -> bytes:
    encap = signed["encap_content_info"]
    if encap["content_type"].native != "data":
        raise CmsError(f"unsupported encapsulated content type {encap['content_type'].native}")
    embedded = encap["content"].native
    if embedded is not None and data is not None and bytes(embedded) != bytes(data):
        raise SignatureNotTrustedError("the given data differs from the content in the message")
    if embedded is None and data is None:
        raise CmsError("the signature is detached: pass the signed data")
    return bytes(data if data is not None else embedded)


def _certificates(signed: cms.SignedData) -> list[x509.Certificate]:
    out = []
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        try:
            out.append(x509.load_der_x509_certificate(choice.chosen.dump()))
        except ValueError as exc:
            raise CmsError(f"a certificate in the message is malformed: {exc}") from exc
    return out


def _check_attributes(info: cms.SignerInfo, digest_name: str, content: bytes) -> dt.datetime | None:
    attrs = info["signed_attrs"]
    if not attrs:
        raise CmsError("the signer info has no signed attributes")
    values = {a["type"].native: a["values"] for a in attrs}
    if "content_type" not in values or values["content_type"][0].native != "data":
        raise CmsError("the contentType attribute is missing or not id-data")
    if "message_digest" not in values:
        raise CmsError("the messageDigest attribute is missing")
    if values["message_digest"][0].native != _digest(digest_name, content):
        raise SignatureNotTrustedError("the content does not match the signed message digest")
    if "signing_time" not in values:
        return None
    time: dt.datetime = values["signing_time"][0].native
    return time


def _check_signature(info: cms.SignerInfo, signer: x509.Certificate, digest_name: str) -> None:
    encoded = bytes(info["signed_attrs"].dump())
    to_verify = b"\x31" + encoded[1:]  # the signature covers the attributes as an explicit SET OF
    algo = info["signature_algorithm"]
    try:
        public = signer.public_key()
        signature = bytes(info["signature"].native)
        name = algo.signature_algo
        hash_algorithm = _HASHES[digest_name]()
        if name == "rsassa_pkcs1v15" and isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, to_verify, padding.PKCS1v15(), hash_algorithm)
        elif name == "ecdsa" and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, to_verify, ec.ECDSA(hash_algorithm))
        else:
            raise CmsError(f"unsupported signature algorithm {algo['algorithm'].native} for this key")
    except (InvalidSignature, ValueError, UnsupportedAlgorithm) as exc:
        if isinstance(exc, CmsError):
            raise
        raise SignatureNotTrustedError("the signature over the signed attributes does not verify") from exc


def _build_chain(signer: x509.Certificate, pool: Sequence[x509.Certificate],
                 anchors: Sequence[x509.Certificate], at: dt.datetime) -> tuple[x509.Certificate, ...]:
    if not anchors:
        raise SignatureNotTrustedError("no trust anchors given")
    _check_leaf_usage(signer)
    chain = [signer]
    current = signer
    for _ in range(8):
        _check_validity(current, at)
        anchor = next((a for a in anchors if a == current), None)
        if anchor is not None:
            return tuple(chain)
        issuer = _find_issuer(current, [*anchors, *pool])
        if issuer is None:
            raise SignatureNotTrustedError(f"no trusted issuer for {current.subject.rfc4514_string()}")
        chain.append(issuer)
        current = issuer
    raise SignatureNotTrustedError("the certificate chain is too long")


def _find_issuer(cert: x509.Certificate, candidates: Sequence[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate == cert or candidate.subject != cert.issuer:
            continue
        try:
            constraints = candidate.extensions.get_extension_for_class(x509.BasicConstraints).value
            if not constraints.ca:
                continue
            cert.verify_directly_issued_by(candidate)
        except (x509.ExtensionNotFound, InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            continue
        return candidate
    return None


def _check_validity(cert: x509.Certificate, at: dt.datetime) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise SignatureNotTrustedError(f"{cert.subject.rfc4514_string()} is not valid at {at.isoformat()}")


def _check_leaf_usage(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise SignatureNotTrustedError("the signer's certificate is not for signatures")


# -- helpers of Encrypt/DecryptRequest ----------------------------------------------------------------------
def _rsa_key(cert: x509.Certificate) -> rsa.RSAPublicKey:
    try:
        public = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise NeidInterfaceError(Ckr.DATA_INVALID, f"the recipient's key is unusable: {exc}") from exc
    if not isinstance(public, rsa.RSAPublicKey):
        raise NeidInterfaceError(Ckr.KEY_FUNCTION_NOT_PERMITTED, "EncryptRequest needs an RSA certificate")
    return public


def _recipient_for(enveloped: cms.EnvelopedData, cert: x509.Certificate) -> cms.KeyTransRecipientInfo:
    for recipient in enveloped["recipient_infos"]:
        if recipient.name != "ktri":
            continue
        ktri = recipient.chosen
        rid = ktri["rid"]
        if rid.name == "issuer_and_serial_number":
            match = _issuer_serial_matches(rid.chosen, cert)
        else:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            match = rid.chosen.native == ski
        if match:
            if ktri["key_encryption_algorithm"]["algorithm"].native != "rsaes_pkcs1v15":
                raise CmsError("the key is not transported with RSAES-PKCS1-v1_5, which the card needs")
            return ktri
    raise NeidInterfaceError(Ckr.KEY_HANDLE_INVALID, "the message is not addressed to this card's "
                                                     "encryption certificate")


def _decrypt_content(encrypted: cms.EncryptedContentInfo, key: bytes) -> bytes:
    algo = encrypted["content_encryption_algorithm"]
    name = algo["algorithm"].native
    if name not in _AES_CBC:
        raise CmsError(f"unsupported content encryption {name} (AES-CBC only)")
    iv = algo["parameters"].native
    ciphertext = encrypted["encrypted_content"].native
    if (len(key) != _AES_CBC[name] or not isinstance(iv, bytes) or len(iv) != _AES_BLOCK
            or not isinstance(ciphertext, bytes) or len(ciphertext) % _AES_BLOCK):
        raise CmsError("the encrypted content cannot be decrypted", Ckr.ENCRYPTED_DATA_INVALID)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = sym_padding.PKCS7(128).unpadder()
    try:
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise CmsError("the encrypted content cannot be decrypted", Ckr.ENCRYPTED_DATA_INVALID) from exc


# -- helpers of ShowViewer -----------------------------------------------------------------------------------
def _cms_kind(raw: bytes) -> str | None:
    try:
        info = cms.ContentInfo.load(raw, strict=True)
        kind = info["content_type"].native
        if kind in ("signed_data", "enveloped_data"):
            info["content"].native  # noqa: B018 - make sure it parses
            return str(kind)
    except (ValueError, TypeError, KeyError):
        pass
    return None


def _signer_lines(signed: cms.SignedData) -> list[str]:
    lines = []
    certs = _certificates(signed)
    for info in signed["signer_infos"]:
        sid = info["sid"]
        signer = next((c for c in certs if sid.name == "issuer_and_serial_number"
                       and _issuer_serial_matches(sid.chosen, c)), None)
        lines.append("Signer: " + (signer.subject.rfc4514_string() if signer is not None
                                   else "(certificate not included)"))
        for attr in info["signed_attrs"] or []:
            if attr["type"].native == "signing_time":
                lines.append(f"Signing time: {attr['values'][0].native.isoformat()} (claimed by the signer)")
    return lines or ["Signer: none"]


def _content_type(content: bytes) -> str:
    if _preview(content) is not None:
        return "text (UTF-8)"
    if content.startswith(b"%PDF-"):
        return "PDF document"
    return "binary data"


def _preview(content: bytes) -> str | None:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(not (ch.isprintable() or ch in "\n\r\t") for ch in text):
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW_CHARS else flat[:_PREVIEW_CHARS] + "…"
