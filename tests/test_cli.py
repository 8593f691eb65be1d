"""The `neweid` command end to end, in-process (CliRunner): card new / read, pki export-csca, demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from neweid.cli.main import app
from neweid.formats.idnumber import is_valid_id_number

runner = CliRunner()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("cli")
    image = base / "alice.card"
    result = runner.invoke(app, ["card", "new", "--out", str(image), "--pki", str(base / "pki"),
                                 "--seed", "7", "--json"])
    assert result.exit_code == 0, result.output
    out: dict[str, str] = json.loads(result.stdout)
    out["pki"] = str(base / "pki")
    return out


def test_card_new_prints_the_secrets_it_set(made: dict[str, str]) -> None:
    assert set(made) >= {"serial", "can", "pin1", "pin2", "user_code"}
    assert made["can"] == made["serial"][-6:]
    assert len(made["pin1"]) == 6 and made["pin1"].isdigit()
    assert 8 <= len(made["pin2"]) <= 12 and made["pin2"].isdigit()
    assert 6 <= len(made["user_code"]) <= 10 and made["user_code"].isalnum()
    assert Path(made["image"]).is_file()


def test_card_new_refuses_to_overwrite(made: dict[str, str]) -> None:
    result = runner.invoke(app, ["card", "new", "--out", made["image"], "--pki", made["pki"]])
    assert result.exit_code == 1
    assert "exists" in result.output


def test_read_household_without_code(made: dict[str, str]) -> None:
    result = runner.invoke(app, ["card", "read", made["image"], "--pki", made["pki"], "--zone", "household",
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["passive_authentication"] == "ok"
    village = data["data"]["village"]["code"]
    assert len(village) == 11 and village.startswith(data["data"]["township"]["code"])


def test_read_public_with_can(made: dict[str, str]) -> None:
    result = runner.invoke(app, ["card", "read", made["image"], "--pki", made["pki"], "--can", made["can"],
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["active_authentication"] == "ok"
    assert data["data"]["card_serial"] == made["serial"]
    assert is_valid_id_number(data["data"]["id_number"])
    assert data["data"]["birth_date"]["minguo"].startswith("民國")


def test_read_public_human_output(made: dict[str, str]) -> None:
    result = runner.invoke(app, ["card", "read", made["image"], "--pki", made["pki"], "--can", made["can"]])
    assert result.exit_code == 0, result.output
    assert made["serial"] in result.stdout
    assert "verified: passive authentication, active authentication" in result.stdout


def test_read_public_with_wrong_can_fails_cleanly(made: dict[str, str]) -> None:
    wrong = f"{(int(made['can']) + 1) % 1_000_000:06d}"
    result = runner.invoke(app, ["card", "read", made["image"], "--pki", made["pki"], "--can", wrong])
    assert result.exit_code == 1
    assert "wrong CAN" in result.output
    assert "Traceback" not in result.output


def test_read_with_another_csca_is_not_genuine(made: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "other-pki"
    csca = tmp_path / "other.pem"
    assert runner.invoke(app, ["pki", "export-csca", "--pki", str(other), "--out", str(csca)]).exit_code == 0
    result = runner.invoke(app, ["card", "read", made["image"], "--csca", str(csca), "--zone", "household"])
    assert result.exit_code == 1
    assert "error:" in result.output


def test_export_csca(made: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "csca.pem"
    result = runner.invoke(app, ["pki", "export-csca", "--pki", made["pki"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    cert = x509.load_pem_x509_certificate(out.read_bytes())
    assert cert.subject == cert.issuer
    assert cert.public_key().curve.name == "secp521r1"  # type: ignore[union-attr]


def test_corrupted_image_is_refused(made: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.card"
    raw = bytearray(Path(made["image"]).read_bytes())
    raw[len(raw) // 2] ^= 0x01
    broken.write_bytes(bytes(raw))
    result = runner.invoke(app, ["card", "read", str(broken), "--pki", made["pki"], "--zone", "household"])
    assert result.exit_code == 1
    assert "error:" in result.output and "Traceback" not in result.output


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "demo complete" in result.stdout
    assert result.stdout.count("refused as expected") >= 5
