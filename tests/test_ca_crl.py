"""Full and delta CRLs (RFC 5280): contents, numbering, signatures, OpenSSL acceptance, the fast encoder."""

from __future__ import annotations

import datetime
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.pki.ca.crl import encode_entries, encode_tbs_cert_list, sign_tbs_cert_list
from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.errors import CaError, Refusal
from neweid.pki.ca.profiles import CertificateUsage
from neweid.pki.ca.registry import RevocationReason
from neweid.pki.keystore import FileKeyStore, KeyStoreSigner, SignatureAlgorithm
from tests.conftest import require_system_part
from tests.test_ca_support import CARD, OPENSSL, SUBSCRIBER, Clock, csr_for, ec_key, make_ca, pem, rsa_key


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ca(tmp_path: Path, clock: Clock) -> Iterator[CaDirectory]:
    opened = make_ca(tmp_path / "ca", clock)
    yield opened
    opened.close()


def entries(crl: x509.CertificateRevocationList) -> dict[int, RevocationReason | None]:
    out: dict[int, RevocationReason | None] = {}
    for entry in crl:
        try:
            flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
            out[entry.serial_number] = RevocationReason[flag.name.upper()]
        except x509.ExtensionNotFound:
            out[entry.serial_number] = None
    return out


def four(ca: CaDirectory) -> list[int]:
    office = ca.ra.operator("t")
    return [
        office.issue(csr_for(k), SUBSCRIBER, u, CARD).record.serial
        for k, u in (
            (ec_key(0), CertificateUsage.SIGN),
            (ec_key(1), CertificateUsage.ENCRYPT),
            (rsa_key(0), CertificateUsage.SIGN),
            (rsa_key(1), CertificateUsage.ENCRYPT),
        )
    ]


def test_full_and_delta_crls(ca: CaDirectory, clock: Clock) -> None:
    office = ca.ra.operator("t")
    a, b, c, d = four(ca)
    office.suspend(a)
    office.revoke(b, RevocationReason.KEY_COMPROMISE)
    office.revoke(c)
    clock.advance(minutes=10)
    full = x509.load_der_x509_crl(ca.crls.publish(clock.now).der)
    assert full.is_signature_valid(ca.hierarchy.issuing.public_key())
    assert entries(full) == {
        a: RevocationReason.CERTIFICATE_HOLD,
        b: RevocationReason.KEY_COMPROMISE,
        c: None,
    }
    assert full.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2  # 1 made at init
    assert full.last_update_utc == clock.now and full.next_update_utc == clock.now + datetime.timedelta(
        hours=24
    )
    assert full.issuer == ca.hierarchy.issuing.subject
    assert full.get_revoked_certificate_by_serial_number(
        b
    ).revocation_date_utc == clock.now - datetime.timedelta(minutes=10)
    fresh = full.extensions.get_extension_for_class(x509.FreshestCRL).value
    assert fresh[0].full_name[0].value == ca.hierarchy.urls.delta_crl

    clock.advance(minutes=5)
    office.resume(a)
    office.suspend(d)
    office.revoke(a, RevocationReason.AFFILIATION_CHANGED)
    office.resume(d)
    delta_issued = ca.crls.publish(clock.now, delta=True)
    delta = x509.load_der_x509_crl(delta_issued.der)
    assert delta.is_signature_valid(ca.hierarchy.issuing.public_key())
    indicator = delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    assert indicator.critical and indicator.value.crl_number == 2
    assert delta.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 3
    assert entries(delta) == {a: RevocationReason.AFFILIATION_CHANGED, d: RevocationReason.REMOVE_FROM_CRL}
    assert (ca.hierarchy.publish_dir / "crl" / "delta.crl").read_bytes() == delta_issued.der
    assert delta_issued.pem.startswith(b"-----BEGIN X509 CRL-----\n")
    assert x509.load_pem_x509_crl(delta_issued.pem).fingerprint(hashes.SHA256()) == delta.fingerprint(
        hashes.SHA256()
    )

    later = x509.load_der_x509_crl(ca.crls.publish(clock.advance(minutes=1)).der)
    assert entries(later) == {
        a: RevocationReason.AFFILIATION_CHANGED,
        b: RevocationReason.KEY_COMPROMISE,
        c: None,
    }
    assert entries(x509.load_der_x509_crl(ca.crls.delta(clock.now).der)) == {}


def test_delta_needs_a_base(tmp_path: Path, clock: Clock) -> None:
    store = FileKeyStore(tmp_path / "keys", b"x")
    from neweid.pki.ca.crl import CrlIssuer
    from neweid.pki.ca.hierarchy import CaHierarchy
    from neweid.pki.ca.registry import Registry

    hierarchy = CaHierarchy.create(tmp_path / "ca", store, now=clock.now)
    with Registry(hierarchy.registry_path) as registry:
        with pytest.raises(CaError) as info:
            CrlIssuer(hierarchy, registry).delta(clock.now)
        assert info.value.code is Refusal.NO_BASE_CRL


def test_encoder_matches_cryptography_builder() -> None:
    rng = random.Random(5)
    key = ec.generate_private_key(ec.SECP521R1())
    issuer = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "issuer")])
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    rows = [
        (
            format(rng.getrandbits(rng.choice([8, 63, 64, 127, 159])) | 1, "x"),
            int(now.timestamp()) + rng.choice([-1, 1]) * rng.randrange(10**9),
            rng.choice([None, 0, 1, 4, 6, 9]),
        )
        for _ in range(300)
    ]
    der_entries, count = encode_entries(rows, int(now.timestamp()))
    assert count == 300

    class Signer:  # a KeyStoreSigner stand-in over a software key
        algorithm = SignatureAlgorithm.ECDSA_SHA512

        def sign(self, data: bytes) -> bytes:
            return key.sign(data, ec.ECDSA(hashes.SHA512()))

    tbs = encode_tbs_cert_list(
        algorithm=SignatureAlgorithm.ECDSA_SHA512,
        issuer=issuer,
        this_update=now,
        next_update=now + datetime.timedelta(days=1),
        entries=der_entries,
        extensions=[],
    )
    ours = x509.load_der_x509_crl(sign_tbs_cert_list(tbs, Signer()))  # type: ignore[arg-type]
    assert ours.is_signature_valid(key.public_key())
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(now)
        .next_update(now + datetime.timedelta(days=1))
    )
    for serial, at, reason in rows:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(serial, 16))
            .revocation_date(datetime.datetime.fromtimestamp(at, datetime.UTC))
        )
        if reason:
            entry = entry.add_extension(
                x509.CRLReason(x509.ReasonFlags[RevocationReason(reason).name.lower()]), critical=False
            )
        builder = builder.add_revoked_certificate(entry.build())
    theirs = builder.sign(key, hashes.SHA512())
    assert ours.tbs_certlist_bytes == theirs.tbs_certlist_bytes


def test_large_crl_in_one_pass(tmp_path: Path) -> None:
    rng = random.Random(1)
    now = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
    count = 200_000
    rows = (
        (format(rng.getrandbits(126) | (1 << 126), "x"), int(now.timestamp()) - i, 6 if i % 3 else 1)
        for i in range(count)
    )
    der_entries, n = encode_entries(rows, int(now.timestamp()))
    store = FileKeyStore(tmp_path / "keys", b"x")
    store.generate_ec_key("crl")
    signer = KeyStoreSigner(store, "crl")
    issuer = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "big")])
    tbs = encode_tbs_cert_list(
        algorithm=signer.algorithm,
        issuer=issuer,
        this_update=now,
        next_update=now + datetime.timedelta(days=1),
        entries=der_entries,
        extensions=[],
    )
    crl = x509.load_der_x509_crl(sign_tbs_cert_list(tbs, signer))
    assert n == count and len(crl) == count
    assert crl.is_signature_valid(signer.public_key())


def test_openssl_verifies_full_and_delta_crls(ca: CaDirectory, clock: Clock, tmp_path: Path) -> None:
    require_system_part(OPENSSL is not None, "the openssl command")
    a, b, c, *_ = four(ca)
    ca.ra.operator("t").suspend(a)
    ca.crls.publish(clock.now)
    ca.ra.operator("t").revoke(b, RevocationReason.KEY_COMPROMISE)
    ca.crls.publish(clock.now, delta=True)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(ca.hierarchy.chain_pem())
    for name, expect in (("full", "Certificate Hold"), ("delta", "Key Compromise")):
        result = subprocess.run(
            [
                str(OPENSSL),
                "crl",
                "-inform",
                "DER",
                "-in",
                str(ca.hierarchy.publish_dir / "crl" / f"{name}.crl"),
                "-CAfile",
                str(chain),
                "-noout",
                "-text",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "verify OK" in result.stderr and expect in result.stdout
    root_crl = ca.hierarchy.publish_dir / "crl" / "root.crl"
    result = subprocess.run(
        [
            str(OPENSSL),
            "crl",
            "-inform",
            "DER",
            "-in",
            str(root_crl),
            "-CAfile",
            str(ca.hierarchy.directory / "root-ca.pem"),
            "-noout",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "verify OK" in result.stderr
    # the chain with CRL checking, at the CA's time: a suspended certificate fails, a good one passes
    crls = tmp_path / "crls.pem"
    full = x509.load_der_x509_crl((ca.hierarchy.publish_dir / "crl" / "full.crl").read_bytes())
    root = x509.load_der_x509_crl(root_crl.read_bytes())
    from cryptography.hazmat.primitives import serialization

    crls.write_bytes(
        full.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
    )

    def verify_with_crls(serial: int) -> subprocess.CompletedProcess[str]:
        leaf = tmp_path / f"{serial}.pem"
        leaf.write_bytes(pem(x509.load_der_x509_certificate(ca.registry.get(serial).der)))
        return subprocess.run(
            [str(OPENSSL), "verify", "-attime", str(int(clock.now.timestamp()) + 60), "-crl_check_all",
             "-CRLfile", str(crls), "-CAfile", str(ca.hierarchy.directory / "root-ca.pem"),
             "-untrusted", str(ca.hierarchy.directory / "issuing-ca.pem"), str(leaf)],
            capture_output=True, text=True, check=False,
        )

    suspended = verify_with_crls(a)
    assert suspended.returncode != 0 and "certificate revoked" in (suspended.stdout + suspended.stderr)
    good = verify_with_crls(c)
    assert good.returncode == 0, good.stdout + good.stderr
