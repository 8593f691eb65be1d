"""The `neweid` command end to end, in-process (CliRunner): card new / read (household, public, encrypted)
/ sign / verify, pki export-csca, demo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner, Result

from neweid.cli.common import utc_now
from neweid.cli.main import app
from neweid.formats.chat import READ_RIGHTS, NeidRight
from neweid.formats.idnumber import is_valid_id_number
from neweid.pki.eac import EacPki

runner = CliRunner()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A card made after an EAC PKI was created in the same directory, and two terminals' directories:
    one that may read spouse and father, one that may read the birthplace only."""
    base = tmp_path_factory.mktemp("cli")
    eac = EacPki.open_or_create(base / "pki", now=utc_now())
    eac.issue_dv("MOI", READ_RIGHTS)
    eac.issue_terminal("MOI", NeidRight.READ_SPOUSE | NeidRight.READ_FATHER, out_dir=base / "family")
    eac.issue_terminal("MOI", NeidRight.READ_BIRTHPLACE, out_dir=base / "other", name="OTHER")
    image = base / "alice.card"
    result = runner.invoke(app, ["card", "new", "--out", str(image), "--pki", str(base / "pki"),
                                 "--seed", "7", "--json"])
    assert result.exit_code == 0, result.output
    out: dict[str, str] = json.loads(result.stdout)
    out["pki"] = str(base / "pki")
    out["family"], out["other"] = str(base / "family"), str(base / "other")
    return out


def test_card_new_prints_the_secrets_it_set(made: dict[str, str]) -> None:
    assert set(made) >= {"serial", "can", "pin1", "pin2", "user_code"}
    assert made["can"] == made["serial"][-6:]
    assert len(made["pin1"]) == 6 and made["pin1"].isdigit()
    assert 8 <= len(made["pin2"]) <= 12 and made["pin2"].isdigit()
    assert 6 <= len(made["user_code"]) <= 10 and made["user_code"].isalnum()
    assert Path(made["image"]).is_file()


def test_card_new_installs_trust_point_and_fills_certificate_zone(made: dict[str, str]) -> None:
    assert made["cvca_trust_points"] == 1  # type: ignore[comparison-overlap]
    assert made["certificate_zone"] == "open"


def _encrypted(made: dict[str, str], terminal: str, *extra: str) -> Result:
    return runner.invoke(app, ["card", "read", made["image"], "--pki", made["pki"], "--zone", "encrypted",
                               "--can", made["can"], "--pin1", made["pin1"], "--terminal", made[terminal],
                               *extra])


def test_read_encrypted_prints_only_granted_fields(made: dict[str, str]) -> None:
    result = _encrypted(made, "family", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["granted"] == ["spouse", "father"]
    assert set(data["data"]) == {"spouse", "father"}
    assert data["terminal_authentication"] == data["chip_authentication"] == "ok"
    assert data["terminal"].startswith("TWMOI")


def test_read_encrypted_other_terminal(made: dict[str, str]) -> None:
    result = _encrypted(made, "other", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data["data"]) == ["birthplace"] and data["data"]["birthplace"]["name"]


def test_read_encrypted_contactless_is_refused(made: dict[str, str]) -> None:
    result = _encrypted(made, "family", "--interface", "contactless")
    assert result.exit_code == 1
    assert "contactless" in result.output and "Traceback" not in result.output


def test_read_encrypted_needs_terminal_and_pin(made: dict[str, str]) -> None:
    result = runner.invoke(app, ["card", "read", made["image"], "--pki", made["pki"], "--zone", "encrypted",
                                 "--can", made["can"]])
    assert result.exit_code == 1
    assert "--terminal" in result.output


def test_read_encrypted_wrong_pin1(made: dict[str, str], tmp_path: Path) -> None:
    copy = tmp_path / "copy.card"
    shutil.copy(made["image"], copy)
    wrong = "000000" if made["pin1"] != "000000" else "111111"
    result = runner.invoke(app, ["card", "read", str(copy), "--pki", made["pki"], "--zone", "encrypted",
                                 "--can", made["can"], "--pin1", wrong, "--terminal", made["family"]])
    assert result.exit_code == 1
    assert "wrong PIN1: 2 tries left" in result.output


@pytest.mark.parametrize("key", ["rsa-sign", "ec-sign"])
def test_sign_and_verify(made: dict[str, str], tmp_path: Path, key: str) -> None:
    document, signature = tmp_path / "doc.txt", tmp_path / "doc.sig"
    document.write_text("我同意 I agree", encoding="utf-8")
    result = runner.invoke(app, ["card", "sign", made["image"], "--pki", made["pki"], "--can", made["can"],
                                 "--pin2", made["pin2"], "--key", key, "--in", str(document),
                                 "--out", str(signature)])
    assert result.exit_code == 0, result.output
    assert signature.stat().st_size > 100
    verify = ["card", "verify", made["image"], "--pki", made["pki"], "--can", made["can"], "--key", key,
              "--in", str(document), "--sig", str(signature)]
    result = runner.invoke(app, verify)
    assert result.exit_code == 0, result.output
    assert "signature valid" in result.stdout
    document.write_text("我不同意 I do not agree", encoding="utf-8")
    result = runner.invoke(app, verify)
    assert result.exit_code == 1
    assert "INVALID" in result.output


def test_sign_with_wrong_pin2_fails_cleanly(made: dict[str, str], tmp_path: Path) -> None:
    copy = tmp_path / "copy.card"
    shutil.copy(made["image"], copy)
    document = tmp_path / "doc.txt"
    document.write_bytes(b"x")
    result = runner.invoke(app, ["card", "sign", str(copy), "--pki", made["pki"], "--can", made["can"],
                                 "--pin2", "99999999" if made["pin2"] != "99999999" else "88888888",
                                 "--in", str(document), "--out", str(tmp_path / "sig")])
    assert result.exit_code == 1
    assert "wrong PIN2" in result.output and "Traceback" not in result.output


def test_card_without_certificate(made: dict[str, str], tmp_path: Path) -> None:
    image = tmp_path / "optout.card"
    result = runner.invoke(app, ["card", "new", "--out", str(image), "--pki", made["pki"], "--seed", "8",
                                 "--no-certificate", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["certificate_zone"] == "closed"
    document = tmp_path / "doc.txt"
    document.write_bytes(b"x")
    result = runner.invoke(app, ["card", "sign", str(image), "--pki", made["pki"], "--can", out["can"],
                                 "--pin2", out["pin2"], "--in", str(document), "--out", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert "closed" in result.output


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
    assert result.stdout.count("refused as expected") >= 8
    text = " ".join(result.stdout.split())  # rich wraps long lines
    assert "read spouse, father" in text
    assert "made on the chip verifies with the certificate" in text
