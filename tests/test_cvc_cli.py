"""`neweid pki eac ...` (neweid.cli.eac), in-process: init, issue-dv, issue-terminal, link, print, and the
one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neweid.cli.eac import app, parse_rights
from neweid.formats.chat import ALL_RIGHTS, READ_RIGHTS, NeidRight
from neweid.formats.cvc import decode_cv_certificate
from neweid.pki.eac import TerminalCredentials

runner = CliRunner()


@pytest.fixture(autouse=True)
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWEID_KEYSTORE_PASSPHRASE", "cli test")


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_full_flow(tmp_path: Path) -> None:
    pki, term = str(tmp_path / "pki"), tmp_path / "agency"
    code, out, _ = invoke("init", "--pki", pki)
    assert code == 0 and "created CVCA TWCVCA00001" in out
    code, out, _ = invoke("init", "--pki", pki)
    assert code == 0 and out.startswith("existing CVCA TWCVCA00001")
    assert (tmp_path / "pki" / "manifest.json").is_file()  # the CSCA/DS test PKI exists too
    code, out, _ = invoke("issue-dv", "--pki", pki, "--name", "hhr", "--non-official", "--fields",
                          "spouse,father,mother", "--days", "60")
    assert code == 0 and "issued DV TWDVHHR00001 (dv_non_official" in out
    code, out, _ = invoke("issue-terminal", "--pki", pki, "--dv", "HHR", "--fields", "spouse,father",
                          "--days", "7", "--out", str(term))
    assert code == 0 and "TWHHR00001" in out and "fields: spouse, father" in out
    credentials = TerminalCredentials.load(term)
    assert credentials.rights == NeidRight.READ_SPOUSE | NeidRight.READ_FATHER
    code, out, _ = invoke("link", "--pki", pki)
    assert code == 0 and "TWCVCA00001 → TWCVCA00002" in out
    link = tmp_path / "pki" / "eac" / "cvca" / "TWCVCA00002-link.cvcert"
    assert decode_cv_certificate(link.read_bytes()).car == "TWCVCA00001"
    code, out, _ = invoke("print", str(term / "TWHHR00001.cvcert"))
    assert code == 0
    assert "chr: TWHHR00001" in out and "role: TERMINAL" in out and "READ_SPOUSE, READ_FATHER" in out
    assert "algorithm: id-TA-ECDSA-SHA-512" in out
    code, out, _ = invoke("print", str(link), "--json")
    info = json.loads(out)
    assert info["link_certificate"] is True and info["public_key"]["domain_parameters"] == "secp521r1"


@pytest.mark.parametrize(("args", "message"), [
    (("issue-dv", "--name", "X"), "no EAC PKI"),
    (("issue-terminal", "--dv", "X", "--fields", "spouse", "--days", "1", "--out", "t"), "no EAC PKI"),
    (("link",), "no EAC PKI"),
])
def test_commands_need_an_initialised_pki(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    code, _, err = invoke(*args, "--pki", str(tmp_path / "none"))
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1


def test_issuing_errors_are_one_line(tmp_path: Path) -> None:
    pki = str(tmp_path / "pki")
    assert invoke("init", "--pki", pki)[0] == 0
    assert invoke("issue-dv", "--pki", pki, "--name", "bank", "--fields", "spouse", "--days", "30")[0] == 0
    cases = [
        (("issue-terminal", "--pki", pki, "--dv", "bank", "--fields", "spouse,sex", "--days", "3", "--out",
          str(tmp_path / "t")), "lacks: READ_SEX"),
        (("issue-terminal", "--pki", pki, "--dv", "bank", "--fields", "spuse", "--days", "3", "--out",
          str(tmp_path / "t")), "unknown right(s) spuse"),
        (("issue-terminal", "--pki", pki, "--dv", "nobank", "--fields", "spouse", "--days", "3", "--out",
          str(tmp_path / "t")), "no DV named NOBANK"),
        (("issue-terminal", "--pki", pki, "--dv", "bank", "--fields", "spouse", "--days", "31", "--out",
          str(tmp_path / "t")), "at most 30 days"),
        (("issue-dv", "--pki", pki, "--name", "much-too-long"), "1-7 letters or digits"),
    ]
    for args, message in cases:
        code, _, err = invoke(*args)
        assert code != 0, args
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "t").exists()


def test_print_refuses_other_files(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"\x30\x03\x02\x01\x00")
    code, _, err = invoke("print", str(tmp_path / "x.bin"))
    assert code != 0 and "is not a CV certificate" in err
    code, _, err = invoke("print", str(tmp_path / "missing"))
    assert code != 0 and "cannot read" in err


def test_parse_rights() -> None:
    assert parse_rights("spouse, Father") == NeidRight.READ_SPOUSE | NeidRight.READ_FATHER
    assert parse_rights("read") == READ_RIGHTS
    assert parse_rights("all") == ALL_RIGHTS
    assert parse_rights("can,update_address,PIN_MANAGEMENT") == (
        NeidRight.READ_CAN | NeidRight.UPDATE_ADDRESS | NeidRight.PIN_MANAGEMENT)
    with pytest.raises(ValueError, match="none"):
        parse_rights("none")
