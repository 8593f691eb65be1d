"""The EAC PKI (neweid.pki.eac): CVCA → DV → terminal chains that verify, the issuing rules (rights only
narrow, a child never outlives its issuer, no issuing with an invalid issuer), CVCA rollover with link
certificates, persistence, and terminal credentials on disk."""

from __future__ import annotations

import datetime
import json
import shutil
import stat
from pathlib import Path

import pytest

from neweid.crypto.cvc import CvKey, ecdsa_verify_plain, verify_cv_chain
from neweid.crypto.ec import NIST_P521
from neweid.crypto.errors import AuthenticationError
from neweid.crypto.ta import SoftwareTerminalSigner, TerminalSigner
from neweid.formats.chat import ALL_RIGHTS, READ_RIGHTS, NeidRight, Role
from neweid.formats.cvc import ID_TA_ECDSA_SHA_512, decode_cv_certificate
from neweid.pki.eac import (
    EacIssuanceError,
    EacPki,
    EacPkiError,
    KeyStoreTerminalSigner,
    TerminalCredentials,
    load_cvca_certificates,
)
from neweid.pki.keystore import FileKeyStore

NOW = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
PASS = b"test only"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PKI with a CVCA, an official DV MOI (every right) and a non-official DV BANK (spouse, sex)."""
    directory = tmp_path_factory.mktemp("eac") / "pki"
    pki = EacPki.open_or_create(directory, now=NOW, passphrase=PASS)
    pki.issue_dv("moi", ALL_RIGHTS, Role.DV_OFFICIAL, 365)
    pki.issue_dv("bank", NeidRight.READ_SPOUSE | NeidRight.READ_SEX, Role.DV_NON_OFFICIAL, 90)
    return directory


@pytest.fixture
def pki(base: Path, tmp_path: Path) -> EacPki:
    copy = tmp_path / "pki"
    shutil.copytree(base, copy)
    return EacPki.open_or_create(copy, now=NOW, passphrase=PASS)


def test_cvca_profile(pki: EacPki) -> None:
    cvca = pki.cvca_certificate
    assert cvca.chr == cvca.car == "TWCVCA00001"
    assert cvca.body.chat.terminal_type == "2.16.886.1.100.1.1"
    assert cvca.body.chat.role is Role.CVCA and cvca.body.chat.rights == ALL_RIGHTS
    assert cvca.body.public_key.oid == ID_TA_ECDSA_SHA_512
    assert cvca.body.public_key.domain is not None
    assert CvKey.from_cvca(cvca).curve == NIST_P521
    assert len(cvca.signature) == 132
    assert cvca.body.effective == TODAY
    verify_cv_chain([cvca], pki.trust_point())  # self-signed


def test_test_pki_is_created_alongside(pki: EacPki) -> None:
    assert (pki.directory.parent / "manifest.json").is_file()  # the CSCA/DS test PKI
    assert pki.directory.name == "eac"
    assert load_cvca_certificates(pki.directory.parent) == [
        (pki.directory / "cvca" / "TWCVCA00001.cvcert").read_bytes()]


def test_terminal_chain_verifies_and_rights_narrow(pki: EacPki, tmp_path: Path) -> None:
    credentials = pki.issue_terminal("BANK", NeidRight.READ_SPOUSE, 10, tmp_path / "term")
    dv, terminal = credentials.dv_certificate, credentials.certificate
    assert (dv.chr, terminal.chr, terminal.car) == ("TWDVBANK00001", "TWBANK00001", "TWDVBANK00001")
    assert dv.body.chat.role is Role.DV_NON_OFFICIAL and terminal.body.chat.role is Role.TERMINAL
    assert credentials.rights == NeidRight.READ_SPOUSE
    assert terminal.body.expiry == TODAY + datetime.timedelta(days=9)
    assert terminal.body.public_key.domain is None
    key = verify_cv_chain([dv, terminal], pki.trust_point())
    assert key.chr == "TWBANK00001"
    assert pki.verify_terminal(credentials).chr == "TWBANK00001"
    ecdsa_verify_plain(key.public_key, b"challenge", credentials.sign(b"challenge"), ID_TA_ECDSA_SHA_512)


@pytest.mark.parametrize(("dv", "rights", "message"), [
    ("BANK", NeidRight.READ_FATHER, "READ_FATHER"),
    ("BANK", NeidRight.READ_SPOUSE | NeidRight.PIN_MANAGEMENT, "PIN_MANAGEMENT"),
])
def test_terminal_rights_never_widen(pki: EacPki, dv: str, rights: NeidRight, message: str) -> None:
    with pytest.raises(EacIssuanceError, match=message):
        pki.issue_terminal(dv, rights, 5)


def test_a_child_never_outlives_its_issuer(pki: EacPki) -> None:
    with pytest.raises(EacIssuanceError, match="at most 90 days"):
        pki.issue_terminal("BANK", NeidRight.READ_SEX, 91)
    pki.issue_terminal("BANK", NeidRight.READ_SEX, 90)  # the longest allowed
    with pytest.raises(EacIssuanceError, match="after its issuer TWCVCA00001"):
        pki.issue_dv("police", READ_RIGHTS, days=5000)


def test_no_issuing_with_an_expired_or_future_issuer(pki: EacPki) -> None:
    later = TODAY + datetime.timedelta(days=100)
    with pytest.raises(EacIssuanceError, match="TWDVBANK00001 is not valid on"):
        pki.issue_terminal("BANK", NeidRight.READ_SEX, 1, now=later)
    with pytest.raises(EacIssuanceError, match="not valid on"):
        pki.issue_dv("early", READ_RIGHTS, now=TODAY - datetime.timedelta(days=1))


def test_bad_requests(pki: EacPki) -> None:
    with pytest.raises(EacIssuanceError, match="no DV named NOPE"):
        pki.issue_terminal("nope", NeidRight.NONE, 1)
    with pytest.raises(EacIssuanceError, match="1-7 letters or digits"):
        pki.issue_dv("TOO-LONG-NAME", READ_RIGHTS)
    with pytest.raises(EacIssuanceError, match="DV_OFFICIAL or DV_NON_OFFICIAL"):
        pki.issue_dv("x", READ_RIGHTS, Role.TERMINAL)
    with pytest.raises(EacIssuanceError, match="validity"):
        pki.issue_terminal("MOI", NeidRight.NONE, 0)
    with pytest.raises(EacIssuanceError, match="aware"):
        pki.issue_dv("x", READ_RIGHTS, now=datetime.datetime(2026, 11, 1))  # noqa: DTZ001


def test_renewed_dv_gets_a_new_sequence_and_key(pki: EacPki) -> None:
    old = pki.dv("MOI")
    new = pki.issue_dv("MOI", READ_RIGHTS, days=30)
    assert (old.chr, new.chr) == ("TWDVMOI00001", "TWDVMOI00002")
    assert new.body.public_key.point != old.body.public_key.point
    assert pki.dv("moi") == new
    first = pki.issue_terminal("MOI", NeidRight.READ_CAN, 1)
    second = pki.issue_terminal("MOI", NeidRight.READ_CAN, 1, name="office7")
    assert (first.chr, second.chr) == ("TWMOI00001", "TWOFFICE700002")


def test_state_persists(pki: EacPki) -> None:
    pki.issue_terminal("MOI", NeidRight.READ_SPOUSE, 2)
    again = EacPki.open_or_create(pki.directory.parent, now=NOW, passphrase=PASS)
    assert again.dv_names == ["BANK", "MOI"]
    assert again.cvca_certificate == pki.cvca_certificate
    assert again.issue_terminal("MOI", NeidRight.READ_SPOUSE, 2).chr == "TWMOI00002"


def test_link_certificate_rollover(pki: EacPki) -> None:
    old_trust = pki.trust_point()
    new, link = pki.link(days=400)
    assert (new.chr, new.car) == ("TWCVCA00002", "TWCVCA00002")
    assert (link.car, link.chr) == ("TWCVCA00001", "TWCVCA00002")
    assert link.body.public_key == new.body.public_key and link.body.chat.role is Role.CVCA
    new_trust = verify_cv_chain([link], old_trust)  # old cards learn the new key
    assert new_trust.public_key.public_numbers() == CvKey.from_cvca(new).public_key.public_numbers()
    assert pki.cvca_certificate == new and pki.link_certificates == [link]
    dv = pki.issue_dv("police", READ_RIGHTS)
    assert dv.car == "TWCVCA00002"
    credentials = pki.issue_terminal("POLICE", NeidRight.READ_MOTHER, 3)
    assert credentials.links == (Path(pki.directory / "cvca" / "TWCVCA00002-link.cvcert").read_bytes(),)
    verify_cv_chain([decode_cv_certificate(c) for c in credentials.chain], CvKey.from_cvca(new))
    assert pki.verify_terminal(credentials).chr == credentials.chr  # from the old trust point, via the link
    with pytest.raises(AuthenticationError):
        verify_cv_chain([decode_cv_certificate(c) for c in credentials.chain], old_trust)
    assert len(load_cvca_certificates(pki.directory.parent)) == 2
    # terminals under a DV of the old CVCA need no link certificate
    assert pki.issue_terminal("BANK", NeidRight.READ_SEX, 1).links == ()


def test_credentials_save_and_load(pki: EacPki, tmp_path: Path) -> None:
    out = tmp_path / "agency"
    issued = pki.issue_terminal("MOI", NeidRight.READ_SPOUSE | NeidRight.READ_FATHER, 7, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["chr"] == issued.chr and manifest["fields"] == ["spouse", "father"]
    assert manifest["chain"] == ["TWDVMOI00001.cvcert", "TWMOI00001.cvcert"]
    assert stat.S_IMODE((out / "terminal.key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    loaded = TerminalCredentials.load(out)
    assert loaded.chain == issued.chain and loaded.rights == issued.rights
    assert isinstance(loaded.signer, TerminalSigner)
    with pytest.raises(EacIssuanceError, match="not an empty directory"):
        pki.issue_terminal("MOI", NeidRight.READ_SPOUSE, 7, out)


def test_credentials_with_passphrase_and_mismatched_key(pki: EacPki, tmp_path: Path) -> None:
    issued = pki.issue_terminal("MOI", NeidRight.READ_SEX, 7)
    issued.save(tmp_path / "t", passphrase=b"secret")
    assert b"ENCRYPTED" in (tmp_path / "t" / "terminal.key.pem").read_bytes()
    with pytest.raises(EacPkiError, match="wrong passphrase"):
        TerminalCredentials.load(tmp_path / "t")
    assert TerminalCredentials.load(tmp_path / "t", passphrase=b"secret").chr == issued.chr
    other = pki.issue_terminal("MOI", NeidRight.READ_SEX, 7)
    with pytest.raises(EacPkiError, match="does not match"):
        TerminalCredentials.load(tmp_path / "t", passphrase=b"secret", signer=other.signer)
    with pytest.raises(EacPkiError, match="does not hold terminal credentials"):
        TerminalCredentials.load(tmp_path / "missing")
    (tmp_path / "t" / "manifest.json").write_text("{}")
    with pytest.raises(EacPkiError, match="version-1 terminal credentials"):
        TerminalCredentials.load(tmp_path / "t")


def test_keystore_held_terminal_key(pki: EacPki, tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "hsm", PASS)
    store.generate_ec_key("agency-terminal")
    signer = KeyStoreTerminalSigner(store, "agency-terminal")
    credentials = pki.issue_terminal("MOI", NeidRight.READ_CAN, 3, tmp_path / "t", signer=signer)
    manifest = json.loads((tmp_path / "t" / "manifest.json").read_text())
    assert manifest["key"] is None and not (tmp_path / "t" / "terminal.key.pem").exists()
    with pytest.raises(EacPkiError, match="give the signer"):
        TerminalCredentials.load(tmp_path / "t")
    loaded = TerminalCredentials.load(tmp_path / "t", signer=signer)
    key = pki.verify_terminal(loaded)
    ecdsa_verify_plain(key.public_key, b"m", credentials.sign(b"m"), ID_TA_ECDSA_SHA_512)


def test_software_signer_is_the_default(pki: EacPki) -> None:
    assert isinstance(pki.issue_terminal("MOI", NeidRight.NONE, 1).signer, SoftwareTerminalSigner)


def test_damaged_pki_is_reported(pki: EacPki) -> None:
    (pki.directory / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(EacPkiError, match="not a version-1 EAC PKI manifest"):
        EacPki.open_or_create(pki.directory.parent, now=NOW, passphrase=PASS)
    (pki.directory / "manifest.json").write_text('{"format": "neweid-eac-pki", "version": 1, "cvcas": [], '
                                                 '"dvs": {}}')
    with pytest.raises(EacPkiError, match="no CVCA"):
        EacPki.open_or_create(pki.directory.parent, now=NOW, passphrase=PASS)
    with pytest.raises(EacPkiError, match="no EAC PKI"):
        load_cvca_certificates(pki.directory.parent / "elsewhere")


def test_credentials_need_a_dv_then_terminal_chain(pki: EacPki) -> None:
    credentials = pki.issue_terminal("MOI", NeidRight.NONE, 1)
    with pytest.raises(EacPkiError, match="DV certificate then the terminal"):
        TerminalCredentials(tuple(reversed(credentials.chain)), credentials.signer)
    with pytest.raises(EacPkiError, match="bad terminal chain"):
        TerminalCredentials((b"\x7f\x21\x00", credentials.chain[1]), credentials.signer)
