"""Interop with OpenPACE (Debian package openpace): `cvc-print` parses and verifies the CV certificates our
EAC PKI issues, and the certificates `cvc-create` makes decode, re-encode byte for byte and verify with our
code. Runs when the tools are installed; required when NEWEID_REQUIRE_SYSTEM_PARTS=1."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.crypto.cvc import CvKey, verify_cv_chain
from neweid.crypto.ec import BRAINPOOL_P256R1, NIST_P521
from neweid.crypto.errors import AuthenticationError
from neweid.formats.chat import ALL_RIGHTS, READ_RIGHTS, NeidRight, Role
from neweid.formats.cvc import (
    ID_AT,
    ID_TA_ECDSA_SHA_256,
    ID_TA_ECDSA_SHA_512,
    CvCertificate,
    decode_cv_certificate,
    encode_cv_certificate,
)
from neweid.pki.eac import EacPki
from tests.conftest import require_system_part


@pytest.fixture(scope="module")
def tools() -> tuple[str, str]:
    printer, creator = shutil.which("cvc-print"), shutil.which("cvc-create")
    require_system_part(printer is not None and creator is not None,
                        "OpenPACE's cvc-print and cvc-create (Debian package openpace)")
    assert printer is not None and creator is not None
    return printer, creator


def run(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(args, capture_output=True, text=True, cwd=cwd, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- OpenPACE reads ours --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory, tools: tuple[str, str]) -> Path:
    """Our CVCA, DV, terminal and link certificates, plus a trust directory (files named by CHR) as
    OpenPACE's --cvc-dir expects. OpenPACE checks validity against the system clock, so this PKI is issued
    today (the only place the real date is used)."""
    base = tmp_path_factory.mktemp("ours")
    pki = EacPki.open_or_create(base / "pki", now=datetime.datetime.now(datetime.UTC), passphrase=b"test")
    dv = pki.issue_dv("MOI", ALL_RIGHTS, Role.DV_OFFICIAL, 100)
    credentials = pki.issue_terminal("MOI", READ_RIGHTS, 10, base / "term")
    new, link = pki.link(days=200)
    trust = base / "trust"
    trust.mkdir()
    for cert in (pki.cvca_certificates[0], dv):
        (trust / cert.chr).write_bytes(encode_cv_certificate(cert))
    files = {"cvca": pki.cvca_certificates[0], "dv": dv, "terminal": credentials.certificate, "link": link,
             "cvca2": new}
    for name, cert in files.items():
        (base / f"{name}.cvcert").write_bytes(encode_cv_certificate(cert))
    return base


def _fields(output: str) -> dict[str, str]:
    pairs = (line.strip().split(": ", 1) for line in output.splitlines() if ": " in line)
    return {key: value for key, value in pairs}


@pytest.mark.parametrize(("name", "car", "chr_", "role"), [
    ("cvca", "TWCVCA00001", "TWCVCA00001", "CVCA certificate"),
    ("dv", "TWCVCA00001", "TWDVMOI00001", "DV certificate"),
    ("terminal", "TWDVMOI00001", "TWMOI00001", "Terminal certificate"),
    ("link", "TWCVCA00001", "TWCVCA00002", "CVCA certificate"),
])
def test_cvc_print_parses_and_verifies_ours(tools: tuple[str, str], ours: Path, name: str, car: str,
                                            chr_: str, role: str) -> None:
    output = run(tools[0], "--cvc", str(ours / f"{name}.cvcert"), "--cvc-dir", str(ours / "trust"))
    fields = _fields(output)
    assert (fields["CAR"], fields["CHR"], fields["Profile identifier"]) == (car, chr_, "0")
    assert role in output
    assert "certificate verified" in [line.strip() for line in output.splitlines()]


def test_cvc_print_rejects_a_tampered_certificate(tools: tuple[str, str], ours: Path) -> None:
    cert = decode_cv_certificate((ours / "dv.cvcert").read_bytes())
    bad = CvCertificate(cert.body, cert.signature[:-1] + bytes([cert.signature[-1] ^ 1]), cert.body_der)
    (ours / "bad.cvcert").write_bytes(encode_cv_certificate(bad))
    output = run(tools[0], "--cvc", str(ours / "bad.cvcert"), "--cvc-dir", str(ours / "trust"))
    assert "certificate verified" not in [line.strip() for line in output.splitlines()]


# --- we read OpenPACE's ---------------------------------------------------------------------------


def _key_file(path: Path, curve: ec.EllipticCurve) -> Path:
    key = ec.generate_private_key(curve)
    path.write_bytes(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


@pytest.mark.parametrize(("curve", "scheme", "oid", "ours_curve"), [
    (ec.SECP521R1(), "ECDSA_SHA_512", ID_TA_ECDSA_SHA_512, NIST_P521),
    (ec.BrainpoolP256R1(), "ECDSA_SHA_256", ID_TA_ECDSA_SHA_256, BRAINPOOL_P256R1),
])
def test_cvc_create_chain_decodes_and_verifies(tools: tuple[str, str], tmp_path: Path,
                                               curve: ec.EllipticCurve, scheme: str, oid: str,
                                               ours_curve: object) -> None:
    creator = tools[1]
    _key_file(tmp_path / "cvca.pkcs8", curve)
    dates = ("--issued=261101", "--expires=291231")
    run(creator, "--role=cvca", "--type=at", "--chr=TWCVCA00001", *dates, "--sign-with=cvca.pkcs8",
        f"--scheme={scheme}", "--out-cert=cvca.cvcert", cwd=tmp_path)
    run(creator, "--role=dv_domestic", "--chr=TWDVMOI00001", "--issued=261101", "--expires=270430",
        "--sign-as=cvca.cvcert", "--sign-with=cvca.pkcs8", f"--scheme={scheme}", "--out-cert=dv.cvcert",
        "--out-key=dv.pkcs8", cwd=tmp_path)
    run(creator, "--role=terminal", "--chr=TWMOI00001", "--issued=261101", "--expires=261130",
        "--sign-as=dv.cvcert", "--sign-with=dv.pkcs8", f"--scheme={scheme}", "--read-dg1", "--read-dg4",
        "--out-cert=terminal.cvcert", "--out-key=terminal.pkcs8", cwd=tmp_path)
    raw = {n: (tmp_path / f"{n}.cvcert").read_bytes() for n in ("cvca", "dv", "terminal")}
    certs = {n: decode_cv_certificate(data) for n, data in raw.items()}
    for name, cert in certs.items():
        assert encode_cv_certificate(cert) == raw[name]
        assert cert.body.public_key.oid == oid and cert.body.chat.terminal_type == ID_AT
    assert [certs[n].body.chat.role for n in ("cvca", "dv", "terminal")] == [
        Role.CVCA, Role.DV_OFFICIAL, Role.TERMINAL]
    assert certs["terminal"].body.chat.rights_bits & 0b1001_00000000 == 0b1001_00000000  # DG1, DG4
    assert certs["cvca"].body.effective == datetime.date(2026, 11, 1)
    anchor = CvKey.from_cvca(certs["cvca"])
    assert anchor.curve == ours_curve
    key = verify_cv_chain([certs["dv"], certs["terminal"]], anchor)
    assert key.chr == "TWMOI00001"
    tampered = CvCertificate(certs["dv"].body, certs["terminal"].signature, certs["dv"].body_der)
    with pytest.raises(AuthenticationError):
        verify_cv_chain([tampered], anchor)


def test_our_rights_survive_in_openpace_made_neid_chat(tools: tuple[str, str], tmp_path: Path) -> None:
    """cvc-create's --chat sets raw discretionary data (of id-AT); the bits we read back are the ones set."""
    _key_file(tmp_path / "cvca.pkcs8", ec.SECP521R1())
    discretionary = (0b11 << 38 | int(NeidRight.READ_SPOUSE | NeidRight.READ_CAN)).to_bytes(5, "big")
    run(tools[1], "--role=cvca", "--type=at", f"--chat={discretionary.hex()}", "--chr=TWCVCA00001",
        "--issued=261101", "--expires=291231", "--sign-with=cvca.pkcs8", "--scheme=ECDSA_SHA_512",
        "--out-cert=cvca.cvcert", cwd=tmp_path)
    cert = decode_cv_certificate((tmp_path / "cvca.cvcert").read_bytes())
    assert cert.body.chat.discretionary == discretionary
    assert cert.body.chat.role is Role.CVCA
    assert cert.body.chat.rights_bits == int(NeidRight.READ_SPOUSE | NeidRight.READ_CAN)
    verify_cv_chain([cert], CvKey.from_cvca(cert))
