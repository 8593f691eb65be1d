"""The citizen CA on the PKCS#11 key store (SoftHSM2): its keys are made and used on the token, and
OpenSSL accepts what it signs (PKI-6)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.hierarchy import KeyLabels
from neweid.pki.ca.profiles import CertificateUsage
from neweid.pki.ca.registry import CertificateStatus
from tests.conftest import require_system_part
from tests.test_ca_support import CARD, NOW, OPENSSL, SUBSCRIBER, Clock, csr_for, ec_key, rsa_key
from tests.test_pki_pkcs11 import Hsm, hsm  # noqa: F401 - the session fixture

LABELS = KeyLabels(root="ca-test-root", issuing="ca-test-issuing", ocsp="ca-test-ocsp")


def test_citizen_ca_runs_on_the_token(hsm: Hsm, tmp_path: Path) -> None:  # noqa: F811
    require_system_part(OPENSSL is not None, "the openssl CLI")
    clock = Clock()
    ca = CaDirectory.init(tmp_path / "ca", hsm.store, now=NOW, labels=LABELS, clock=clock)
    for label in (LABELS.root, LABELS.issuing, LABELS.ocsp):
        assert hsm.store.has_key(label)
    assert not list((tmp_path / "ca").rglob("*.key")), "no private key file may exist beside an HSM CA"

    office = ca.ra.operator("clerk")
    ec_cert = office.issue(csr_for(ec_key(0)), SUBSCRIBER, CertificateUsage.SIGN, CARD).certificate
    rsa_cert = office.issue(csr_for(rsa_key(1)), SUBSCRIBER, CertificateUsage.ENCRYPT, CARD).certificate

    chain = tmp_path / "chain.pem"
    chain.write_bytes(ca.hierarchy.chain_pem())
    for cert in (ec_cert, rsa_cert):
        leaf = tmp_path / "leaf.pem"
        leaf.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        assert isinstance(cert, x509.Certificate)
        done = subprocess.run([str(OPENSSL), "verify", "-attime", str(int(NOW.timestamp()) + 60),
                               "-CAfile", str(chain), str(leaf)],
                              capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr

    serial = ec_cert.serial_number
    office.suspend(serial)
    assert ca.registry.get(serial).status is CertificateStatus.SUSPENDED
    crl = x509.load_der_x509_crl(ca.crls.full(clock()).der)
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl.is_signature_valid(ca.hierarchy.issuing.public_key())  # type: ignore[arg-type]
