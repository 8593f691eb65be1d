"""A development citizen-certificate issuer for the command line and the demo (not the citizen CA).

Until the production line is wired to the citizen CA (:mod:`neweid.pki.ca`), ``neweid card new`` fills
the certificate zone from this small issuer kept in the test PKI directory: a P-521 root and an
intermediate whose keys live in the PKI's encrypted :class:`~neweid.pki.keystore.FileKeyStore`, and
end-entity certificates (5 years, never past the card's renewal date, CARD-10) for the chip-signed
requests. Layout: ``DIR/citizen-dev/{root.pem, intermediate.pem}`` and keys ``citizen-dev-root`` /
``citizen-dev-intermediate`` in ``DIR/citizen-dev/keys``.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from neweid.pki.errors import PkiError
from neweid.pki.keystore import FileKeyStore, KeyStoreSigner, passphrase_from_environment
from neweid.pki.x509util import add_months, random_serial, sign_certificate
from neweid.production.card_data import CertificateHolder
from neweid.production.certificates import CSR_SIGNING_KEY, IssuerError, verify_card_csr
from neweid.terminal.certzone import CertificateKey, PublicKey

__all__ = ["DevelopmentIssuer"]

SUBDIR = "citizen-dev"
_ROOT, _INTERMEDIATE = "citizen-dev-root", "citizen-dev-intermediate"
CERTIFICATE_MONTHS = 60  # CARD-10: 5 years


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "neweid development"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca_extensions(builder: x509.CertificateBuilder, path_length: int) -> x509.CertificateBuilder:
    return (builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True))


class DevelopmentIssuer:
    """A :class:`~neweid.production.certificates.CertificateIssuer` for development (see the module)."""

    def __init__(self, store: FileKeyStore, root: x509.Certificate, intermediate: x509.Certificate, *,
                 now: datetime.datetime) -> None:
        self._store = store
        self._root = root
        self._intermediate = intermediate
        self._now = now
        self._signing_keys: dict[CertificateKey, PublicKey] = {}

    @classmethod
    def open_or_create(cls, pki_directory: Path, *, now: datetime.datetime,
                       passphrase: bytes | None = None) -> DevelopmentIssuer:
        base = Path(pki_directory) / SUBDIR
        secret = passphrase_from_environment() if passphrase is None else passphrase
        try:
            base.mkdir(mode=0o700, parents=True, exist_ok=True)
            store = FileKeyStore(base / "keys", secret)
            root_path, inter_path = base / "root.pem", base / "intermediate.pem"
            if root_path.is_file() and inter_path.is_file():
                return cls(store, x509.load_pem_x509_certificate(root_path.read_bytes()),
                           x509.load_pem_x509_certificate(inter_path.read_bytes()), now=now)
            root_key = store.generate_ec_key(_ROOT) if not store.has_key(_ROOT) else store.handle(_ROOT)
            inter_key = (store.generate_ec_key(_INTERMEDIATE) if not store.has_key(_INTERMEDIATE)
                         else store.handle(_INTERMEDIATE))
            root_signer = KeyStoreSigner(store, _ROOT)
            root_builder = (x509.CertificateBuilder().subject_name(_name("Citizen Root (development)"))
                            .issuer_name(_name("Citizen Root (development)"))
                            .public_key(root_key.public_key()).serial_number(random_serial(os.urandom))
                            .not_valid_before(now).not_valid_after(add_months(now, 240)))
            root = sign_certificate(_ca_extensions(root_builder, 1), root_signer)
            inter_builder = (x509.CertificateBuilder().subject_name(_name("Citizen CA (development)"))
                             .issuer_name(root.subject).public_key(inter_key.public_key())
                             .serial_number(random_serial(os.urandom))
                             .not_valid_before(now).not_valid_after(add_months(now, 144)))
            intermediate = sign_certificate(_ca_extensions(inter_builder, 0), root_signer)
            inter_path.write_bytes(intermediate.public_bytes(serialization.Encoding.PEM))
            root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
        except (OSError, ValueError, PkiError) as exc:
            raise IssuerError(f"cannot open the development citizen issuer in {base}: {exc}") from exc
        return cls(store, root, intermediate, now=now)

    @property
    def root_certificate(self) -> bytes:
        return self._root.public_bytes(serialization.Encoding.DER)

    @property
    def intermediate_certificate(self) -> bytes:
        return self._intermediate.public_bytes(serialization.Encoding.DER)

    def issue(self, csr_der: bytes, usage: CertificateKey, holder: CertificateHolder) -> bytes:
        signer = CSR_SIGNING_KEY[usage]
        csr = verify_card_csr(csr_der, usage, None if signer is usage else self._signing_keys.get(signer))
        public_key = csr.public_key()
        if usage is signer:
            self._signing_keys[usage] = public_key  # type: ignore[assignment]
        not_after = add_months(self._now, CERTIFICATE_MONTHS)
        if holder.renewal_date is not None:
            renewal = datetime.datetime.combine(holder.renewal_date, datetime.time(), datetime.UTC)
            not_after = min(not_after, renewal)
        signing = usage in (CertificateKey.RSA_SIGN, CertificateKey.EC_SIGN)
        builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(self._intermediate.subject)
                   .public_key(public_key).serial_number(random_serial(os.urandom))
                   .not_valid_before(self._now).not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(
                       digital_signature=signing, content_commitment=signing,
                       key_encipherment=usage is CertificateKey.RSA_ENCRYPT, data_encipherment=False,
                       key_agreement=usage is CertificateKey.EC_KEY_AGREEMENT, key_cert_sign=False,
                       crl_sign=False, encipher_only=False, decipher_only=False), critical=True))
        try:
            certificate = sign_certificate(builder, KeyStoreSigner(self._store, _INTERMEDIATE))
        except PkiError as exc:
            raise IssuerError(f"cannot sign the {usage.value} certificate: {exc}") from exc
        return certificate.public_bytes(serialization.Encoding.DER)
