"""`neweid ca ...` end to end: init, export, issue, suspend/resume/revoke, reissue, status, crl,
ocsp-serve."""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from neweid.cli.ca import app
from neweid.formats.idnumber import check_digit
from neweid.pki.ca.validity import TAIPEI, add_years
from tests.conftest import require_system_part
from tests.test_ca_support import OPENSSL, csr_for, ec_key, rsa_key

ID_B = "B28765432" + str(check_digit("B28765432"))
ENV = {"NEWEID_KEYSTORE_PASSPHRASE": "cli test passphrase"}
runner = CliRunner(env=ENV)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ca-cli")
    code, _, err = run("init", "--dir", str(base / "ca"))
    assert code == 0, err
    (base / "sign.csr").write_bytes(csr_for(ec_key(0)))
    (base / "enc.csr").write_bytes(csr_for(rsa_key(1)))
    return base / "ca"


def test_init_refuses_existing(ca_dir: Path) -> None:
    code, _, err = run("init", "--dir", str(ca_dir))
    assert code == 1 and "not empty" in err and len(err.strip().splitlines()) == 1


def test_issue_status_suspend_resume_revoke_crl(ca_dir: Path) -> None:
    base = ca_dir.parent
    today = datetime.datetime.now(TAIPEI).date()
    code, out, err = run(
        "issue",
        "--dir",
        str(ca_dir),
        "--csr",
        str(base / "sign.csr"),
        "--name",
        "林美麗",
        "--id-number",
        ID_B,
        "--card-serial",
        "NE0000654321",
        "--usage",
        "sign",
        "--card-issued",
        today.isoformat(),
        "--out",
        str(base / "sign.pem"),
    )
    assert code == 0, err
    serial = out.strip()
    cert = x509.load_pem_x509_certificate((base / "sign.pem").read_bytes())
    assert f"{cert.serial_number:x}" == serial
    assert f"serialNumber={ID_B[-4:]}" in cert.subject.rfc4514_string(
        {x509.NameOID.SERIAL_NUMBER: "serialNumber"}
    )
    assert ID_B not in cert.subject.rfc4514_string()
    code, out, _ = run("status", "--dir", str(ca_dir), serial)
    assert code == 0 and out.startswith(f"{serial} good") and "usage=sign key=p521" in out
    assert run("suspend", "--dir", str(ca_dir), serial)[1].strip() == f"{serial} suspended"
    code, out, _ = run("crl", "--dir", str(ca_dir), "--out", str(base / "full.crl"))
    assert code == 0 and "1 entries" in out
    crl = x509.load_der_x509_crl((base / "full.crl").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    assert run("resume", "--dir", str(ca_dir), serial.upper())[1].strip() == f"{serial} good"
    code, out, _ = run("crl", "--dir", str(ca_dir), "--delta", "--pem", "--out", str(base / "delta.pem"))
    assert code == 0 and "delta" in out
    delta = x509.load_pem_x509_crl((base / "delta.pem").read_bytes())
    assert (
        delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number
        == crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    )
    code, out, _ = run("revoke", "--dir", str(ca_dir), serial, "--reason", "keyCompromise")
    assert code == 0 and out.strip() == f"{serial} revoked"
    code, _, err = run(
        "reissue", "--dir", str(ca_dir), serial, "--csr", str(base / "enc.csr"), "--out", str(base / "x.pem")
    )
    assert code == 1 and "revoked" in err and len(err.strip().splitlines()) == 1
    audit = (ca_dir / "audit.jsonl").read_text(encoding="utf-8")
    assert "林美麗" not in audit and ID_B not in audit and "NE0000654321" not in audit
    assert audit.count('"actor": "ca-operator"') >= 6


def test_export_chain(ca_dir: Path) -> None:
    out_file = ca_dir.parent / "chain.pem"
    assert run("export", "--dir", str(ca_dir), "--out", str(out_file))[0] == 0
    chain = x509.load_pem_x509_certificates(out_file.read_bytes())
    assert len(chain) == 2
    assert chain[0].subject.rfc4514_string().startswith("CN=MOICA Citizen Certificate CA")
    chain[0].verify_directly_issued_by(chain[1])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--card-renewal", "2027-01-01", "--not-after", "2027-06-01"], "renewal date"),
        (["--card-renewal", "none", "--not-after", "2099-01-01"], "at most 5 years"),
        (["--card-renewal", "yesterday"], "--card-renewal must be a date"),
        (["--usage", "sign", "--id-number", "A000000000"], "invalid ID number"),
    ],
)
def test_issue_refusals(ca_dir: Path, extra: list[str], message: str) -> None:
    base = ca_dir.parent
    args = [
        "issue",
        "--dir",
        str(ca_dir),
        "--csr",
        str(base / "enc.csr"),
        "--name",
        "X",
        "--id-number",
        "A123456789",
        "--card-serial",
        "NE0000000001",
        "--usage",
        "encrypt",
        "--card-issued",
        "2026-11-02",
        "--out",
        str(base / "refused.pem"),
        *extra,
    ]
    code, _, err = run(*args)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert not (base / "refused.pem").exists()


def test_bad_csr_signature_and_unknown_serial(ca_dir: Path, tmp_path: Path) -> None:
    der = bytearray(csr_for(ec_key(0), pem=False))
    der[-3] ^= 0xFF
    (tmp_path / "bad.csr").write_bytes(bytes(der))
    code, _, err = run(
        "issue",
        "--dir",
        str(ca_dir),
        "--csr",
        str(tmp_path / "bad.csr"),
        "--name",
        "X",
        "--id-number",
        "A123456789",
        "--card-serial",
        "NE0000000002",
        "--usage",
        "sign",
        "--out",
        str(tmp_path / "x.pem"),
    )
    assert code == 1 and "request" in err
    assert run("suspend", "--dir", str(ca_dir), "abc123")[0] == 1
    assert "hexadecimal" in run("suspend", "--dir", str(ca_dir), "xyz")[2]
    assert "unknown revocation reason" in run("revoke", "--dir", str(ca_dir), "abc", "--reason", "bored")[2]
    assert (
        "not a CA directory" in run("crl", "--dir", str(tmp_path / "none"), "--out", str(tmp_path / "c"))[2]
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ocsp_serve_with_openssl(ca_dir: Path, tmp_path: Path) -> None:
    require_system_part(OPENSSL is not None, "the openssl command")
    today = datetime.datetime.now(TAIPEI).date()
    (tmp_path / "k.csr").write_bytes(csr_for(ec_key(1)))
    code, out, err = run(
        "issue",
        "--dir",
        str(ca_dir),
        "--csr",
        str(tmp_path / "k.csr"),
        "--name",
        "Alice Lin",
        "--id-number",
        "A123456789",
        "--card-serial",
        "NE0000777777",
        "--usage",
        "encrypt",
        "--card-issued",
        today.isoformat(),
        "--card-renewal",
        add_years(today, 5).isoformat(),
        "--out",
        str(tmp_path / "k.pem"),
    )
    assert code == 0, err
    serial = out.strip()
    port = _free_port()
    env = {**os.environ, **ENV}
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from neweid.cli.ca import app; app()",
            "ocsp-serve",
            "--dir",
            str(ca_dir),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        run("export", "--dir", str(ca_dir), "--out", str(tmp_path / "chain.pem"))

        def ask() -> str:
            result = subprocess.run(
                [
                    str(OPENSSL),
                    "ocsp",
                    "-issuer",
                    str(ca_dir / "issuing-ca.pem"),
                    "-cert",
                    str(tmp_path / "k.pem"),
                    "-url",
                    f"http://127.0.0.1:{port}/",
                    "-CAfile",
                    str(tmp_path / "chain.pem"),
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            assert "Response verify OK" in result.stderr, result.stderr
            return result.stdout

        assert "k.pem: good" in ask()
        assert run("suspend", "--dir", str(ca_dir), serial)[0] == 0  # another process changes the status
        answer = ask()
        assert "k.pem: revoked" in answer and "certificateHold" in answer
        assert run("resume", "--dir", str(ca_dir), serial)[0] == 0
        assert "k.pem: good" in ask()
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.stderr is not None
        assert f"OCSP responder at http://127.0.0.1:{port}/" in server.stderr.read().decode()
        server.stdout.close() if server.stdout else None
        server.stderr.close()
