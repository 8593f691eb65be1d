"""The ISO/IEC 24727-3-style facade end to end against personalised virtual cards (API-3, CARD-2..6):
card applications, connections, sessions, data sets, DIDs (PACE, PINs, TA, CA, AA, keys), the
cryptographic services, ACLList, and the ResultMinor of every failure."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from neweid.card import VirtualCard
from neweid.formats.chat import NeidRight
from neweid.formats.filemap import Access, Interface, Zone, zone_spec
from neweid.formats.iso7816 import PinRef, StatusWord
from neweid.pki.testpki import TestPki
from neweid.terminal.errors import (
    AccessDenied,
    CardStatusError,
    InvalidInputError,
    PinBlocked,
    PinIncorrect,
    ReaderError,
    TransportError,
    WrongAccessCode,
    ZoneClosed,
)
from neweid.terminal.iso24727 import DidKind, Iso24727Sal
from neweid.terminal.iso24727_errors import (
    AuthenticationFailed,
    InappropriateProtocolForAction,
    IncorrectParameter,
    InternalError,
    InvalidSignatureError,
    Iso24727Error,
    NamedEntityNotFound,
    NoCard,
    PasswordBlocked,
    ResultMajor,
    ResultMinor,
    SecurityConditionNotSatisfied,
    UnknownConnectionHandle,
    translate,
)
from neweid.terminal.p11_errors import SignatureInvalidError
from neweid.terminal.reader import PinState
from neweid.terminal.transport import InProcessTransport
from tests.test_terminal_eac_support import EacCard, EacChain, SmallIssuer, eac_card

R = NeidRight
AGENCY_RIGHTS = R.READ_SPOUSE | R.READ_SEX


@pytest.fixture(scope="module")
def chain() -> EacChain:
    return EacChain()


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPki, chain: EacChain) -> EacCard:
    return eac_card(tmp_path_factory.mktemp("sal") / "citizen.card", test_pki, seed=21, cvcas=[chain.cvca],
                    issuer=SmallIssuer())


@pytest.fixture(scope="module")
def opted_out(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPki, chain: EacChain) -> EacCard:
    return eac_card(tmp_path_factory.mktemp("sal") / "optout.card", test_pki, seed=22, cvcas=[chain.cvca])


def _sal(card: EacCard, test_pki: TestPki, interface: Interface = Interface.CONTACT,
         path: Path | None = None) -> Iso24727Sal:
    virtual = VirtualCard.load(path or card.path)
    return Iso24727Sal(InProcessTransport(virtual, interface), [test_pki.csca_certificate])


@pytest.fixture
def sal(card: EacCard, test_pki: TestPki) -> Iterator[Iso24727Sal]:
    facade = _sal(card, test_pki)
    yield facade
    facade.close()


def test_card_application_path_lists_the_zones(sal: Iso24727Sal) -> None:
    apps = sal.card_application_path()
    assert [app.name for app in apps] == ["MF", "household", "public", "encrypted", "certificate"]
    public_aid = zone_spec(Zone.PUBLIC).aid
    assert [app.name for app in sal.card_application_path(public_aid)] == ["public"]
    assert apps[2].label_zh == "公開區" and apps[2].zone is Zone.PUBLIC


def test_connect_and_disconnect(sal: Iso24727Sal) -> None:
    handle = sal.card_application_connect(zone_spec(Zone.HOUSEHOLD).aid)
    assert handle.application == "household"
    sal.card_application_disconnect(handle)
    with pytest.raises(UnknownConnectionHandle) as info:
        sal.data_set_list(handle)
    assert info.value.result.major is ResultMajor.ERROR
    assert info.value.result.minor == "http://www.bsi.bund.de/ecard/api/1.1/resultminor/sal#unknownConnectionHandle"
    with pytest.raises(NamedEntityNotFound):
        sal.card_application_connect("travel")


def test_ef_dir_data_set_of_the_mf(sal: Iso24727Sal) -> None:
    mf = sal.card_application_connect("MF")
    assert [ds.name for ds in sal.data_set_list(mf)] == ["EF.DIR", "EF.CardAccess", "EF.CardSecurity"]
    sal.data_set_select(mf, "EF.DIR")
    ef_dir = sal.dsi_read(mf, "EF.DIR")
    assert all(spec.aid in ef_dir for spec in (zone_spec(z) for z in Zone))


def test_household_zone_needs_no_session(sal: Iso24727Sal, card: EacCard) -> None:
    handle = sal.card_application_connect("household")
    assert [ds.name for ds in sal.data_set_list(handle)] == ["DG1", "SOD"]
    sal.data_set_select(handle, "DG1")
    assert sal.dsi_list(handle) == ["DG1"]
    assert sal.dsi_read(handle, "DG1") == card.made.content.household.to_data_groups()[1]
    with pytest.raises(NamedEntityNotFound):
        sal.dsi_read(handle, "DG2")
    with pytest.raises(NamedEntityNotFound):
        sal.data_set_select(handle, "DG9")


def test_public_zone_after_pace(sal: Iso24727Sal, card: EacCard) -> None:
    mf = sal.card_application_connect("MF")
    public = sal.card_application_connect("public")
    with pytest.raises(IncorrectParameter):
        sal.dsi_list(public)  # nothing selected
    with pytest.raises(SecurityConditionNotSatisfied):
        sal.data_set_select(public, "DG2")
        sal.dsi_read(public, "DG2")
    wrong_can = f"{(int(card.made.secrets.can) + 1) % 1_000_000:06d}"
    with pytest.raises(AuthenticationFailed):
        sal.card_application_start_session(mf, "PACE.CAN", wrong_can)
    with pytest.raises(InappropriateProtocolForAction):
        sal.card_application_start_session(mf, "PIN1", "123456")
    result = sal.card_application_start_session(mf, "PACE.CAN", card.made.secrets.can)
    assert result.authenticated
    sal.data_set_select(public, "DG2")
    assert sal.dsi_read(public, "DG2") == card.made.content.public.to_data_groups()[2]
    sal.card_application_end_session(mf)
    with pytest.raises(SecurityConditionNotSatisfied):
        sal.dsi_read(public, "DG2")


def test_did_list_and_get(sal: Iso24727Sal, card: EacCard) -> None:
    mf = sal.card_application_connect("MF")
    names = {did.name for did in sal.did_list(mf)}
    assert names == {"PACE.CAN", "PACE.MRZ", "PIN1", "PIN2", "UserCode", "TA", "CA", "AA"}
    cert = sal.card_application_connect("certificate")
    keys = [did for did in sal.did_list(cert) if did.kind is DidKind.KEY]
    assert [did.name for did in keys] == ["rsa-sign", "rsa-encrypt", "ec-sign", "ec-key-agreement"]
    ta = next(did for did in sal.did_list(mf) if did.name == "TA")
    assert ta.protocol == "0.4.0.127.0.7.2.2.2.2.5"
    with pytest.raises(NamedEntityNotFound):
        sal.did_get(mf, "rsa-sign")  # a key of the certificate application
    sal.did_authenticate(mf, "PACE.CAN", password=card.made.secrets.can)
    pin1 = sal.did_get(mf, "PIN1")
    assert pin1.pin_status is not None and pin1.pin_status.state is PinState.NOT_VERIFIED
    assert pin1.pin_status.tries_left == 3
    assert isinstance(sal.did_get(cert, "ec-sign").public_key, ec.EllipticCurvePublicKey)
    assert isinstance(sal.did_get(cert, "rsa-encrypt").public_key, rsa.RSAPublicKey)
    assert sal.did_get(mf, "TA").public_key is None


def test_wrong_pin_counts_down_then_blocks(card: EacCard, test_pki: TestPki, tmp_path: Path) -> None:
    path = tmp_path / "copy.card"
    shutil.copy(card.path, path)
    sal = _sal(card, test_pki, path=path)
    mf = sal.card_application_connect("MF")
    sal.did_authenticate(mf, "PACE.CAN", password=card.made.secrets.can)
    wrong = "000000" if card.made.secrets.pin1 != "000000" else "111111"
    with pytest.raises(AuthenticationFailed) as info:
        sal.did_authenticate(mf, "PIN1", password=wrong)
    assert info.value.tries_left == 2
    assert info.value.result.minor is ResultMinor.AUTHENTICATION_FAILED
    with pytest.raises(AuthenticationFailed):
        sal.did_authenticate(mf, "PIN1", password=wrong)
    with pytest.raises(PasswordBlocked):
        sal.did_authenticate(mf, "PIN1", password=wrong)
    with pytest.raises(IncorrectParameter):
        sal.did_authenticate(mf, "PIN2")  # no password


def test_eac_reads_only_the_granted_fields(sal: Iso24727Sal, card: EacCard, chain: EacChain) -> None:
    mf = sal.card_application_connect("MF")
    encrypted = sal.card_application_connect("encrypted")
    sal.did_authenticate(mf, "PACE.CAN", password=card.made.secrets.can)
    with pytest.raises(SecurityConditionNotSatisfied):
        sal.did_authenticate(mf, "CA")  # TA first
    with pytest.raises(IncorrectParameter):
        sal.did_authenticate(mf, "TA")
    ta = sal.did_authenticate(mf, "TA", authenticator=chain.terminal(AGENCY_RIGHTS))
    assert ta.rights == AGENCY_RIGHTS and ta.terminal_chr == "TWAGENCY100001"
    ca = sal.did_authenticate(mf, "CA")
    assert ca.eac is not None and ca.eac.rights == AGENCY_RIGHTS
    sal.did_authenticate(mf, "PIN1", password=card.made.secrets.pin1)
    groups = card.made.content.encrypted.to_data_groups()
    sal.data_set_select(encrypted, "DG1")
    assert sal.dsi_read(encrypted, "DG1") == groups[1]  # spouse: granted
    sal.data_set_select(encrypted, "DG5")
    assert sal.dsi_read(encrypted, "DG5") == groups[5]  # sex: granted
    with pytest.raises(SecurityConditionNotSatisfied):
        sal.data_set_select(encrypted, "DG2")  # father: not granted
        sal.dsi_read(encrypted, "DG2")


def test_ta_with_an_untrusted_chain_fails(sal: Iso24727Sal, card: EacCard) -> None:
    mf = sal.card_application_connect("MF")
    sal.did_authenticate(mf, "PACE.CAN", password=card.made.secrets.can)
    stranger = EacChain(cvca_chr="TWCVCA00009", dv_chr="TWDVXX00001")
    with pytest.raises(AuthenticationFailed, match="terminal not authorised"):
        sal.did_authenticate(mf, "TA", authenticator=stranger.terminal(AGENCY_RIGHTS))


def test_active_authentication(sal: Iso24727Sal, card: EacCard) -> None:
    mf = sal.card_application_connect("MF")
    sal.did_authenticate(mf, "PACE.CAN", password=card.made.secrets.can)
    assert sal.did_authenticate(mf, "AA").authenticated


@pytest.mark.parametrize("did", ["rsa-sign", "ec-sign"])
def test_sign_and_verify_signature(sal: Iso24727Sal, card: EacCard, did: str) -> None:
    mf = sal.card_application_connect("MF")
    cert = sal.card_application_connect("certificate")
    sal.did_authenticate(mf, "PACE.CAN", password=card.made.secrets.can)
    with pytest.raises(SecurityConditionNotSatisfied):
        sal.sign(cert, did, b"contract")  # PIN2 not verified
    sal.did_authenticate(mf, "PIN2", password=card.made.secrets.pin2)
    signature = sal.sign(cert, did, b"contract")
    sal.verify_signature(cert, did, signature, b"contract")
    with pytest.raises(InvalidSignatureError) as info:
        sal.verify_signature(cert, did, signature, b"contract v2")
    assert info.value.result.minor is ResultMinor.INVALID_SIGNATURE
    with pytest.raises(InappropriateProtocolForAction):
        sal.sign(cert, "rsa-encrypt", b"contract")
    with pytest.raises(InappropriateProtocolForAction):
        sal.sign(cert, "PIN2", b"contract")


def test_encipher_decipher(sal: Iso24727Sal, card: EacCard) -> None:
    mf = sal.card_application_connect("MF")
    cert = sal.card_application_connect("certificate")
    sal.did_authenticate(mf, "PACE.CAN", password=card.made.secrets.can)
    sal.did_authenticate(mf, "PIN2", password=card.made.secrets.pin2)
    ciphertext = sal.encipher(cert, "rsa-encrypt", b"for the citizen only")
    assert len(ciphertext) == 256
    assert sal.decipher(cert, "rsa-encrypt", ciphertext) == b"for the citizen only"
    with pytest.raises(InappropriateProtocolForAction):
        sal.decipher(cert, "rsa-sign", ciphertext)
    with pytest.raises(InappropriateProtocolForAction):
        sal.encipher(cert, "ec-key-agreement", b"x")


def test_get_random_hash_and_verify_certificate(sal: Iso24727Sal, card: EacCard) -> None:
    mf = sal.card_application_connect("MF")
    sal.did_authenticate(mf, "PACE.CAN", password=card.made.secrets.can)
    random_bytes = sal.get_random(mf, 20)
    assert len(random_bytes) == 20 and random_bytes != sal.get_random(mf, 20)
    with pytest.raises(IncorrectParameter):
        sal.get_random(mf, 0)
    assert sal.hash(mf, "SHA-256", b"abc") == hashlib.sha256(b"abc").digest()
    assert sal.hash(mf, "sha512", b"abc") == hashlib.sha512(b"abc").digest()
    with pytest.raises(IncorrectParameter):
        sal.hash(mf, "md5", b"abc")
    cert = sal.card_application_connect("certificate")
    certificates = sal.reader.certificate_zone().certificates()
    sal.verify_certificate(cert, certificates[3], certificates[2])
    with pytest.raises(InvalidSignatureError):
        sal.verify_certificate(cert, certificates[3], certificates[1])


def test_acl_list_follows_the_file_map(sal: Iso24727Sal) -> None:
    public = {(r.target, r.action): r for r in sal.acl_list(sal.card_application_connect("public"))}
    assert public["DG1", "DSIRead"].condition == Access.SM
    assert public["DG1", "DSIWrite"].condition == Access.NEVER
    assert public["DG4", "DSIWrite"].rights == R.UPDATE_ADDRESS
    assert public["PACE.CAN", "DIDAuthenticate"].condition == Access.ALWAYS
    encrypted = {(r.target, r.action): r for r in sal.acl_list(sal.card_application_connect("encrypted"))}
    spouse = encrypted["DG1", "DSIRead"]
    assert spouse.condition == Access.SM | Access.PIN1 | Access.TA and spouse.rights == R.READ_SPOUSE
    assert spouse.contact_only
    cert = {(r.target, r.action): r for r in sal.acl_list(sal.card_application_connect("certificate"))}
    assert cert["rsa-sign", "Sign"].condition == Access.SM | Access.PIN2
    assert cert["rsa-encrypt", "Decipher"].contact_only
    assert cert["CERT3", "DSIWrite"].condition == Access.NEVER


def test_closed_certificate_zone_and_contactless(opted_out: EacCard, card: EacCard,
                                                 test_pki: TestPki) -> None:
    sal = _sal(opted_out, test_pki)
    mf = sal.card_application_connect("MF")
    sal.did_authenticate(mf, "PACE.CAN", password=opted_out.made.secrets.can)
    with pytest.raises(NamedEntityNotFound, match="closed"):
        sal.card_application_connect("certificate")
    sal.close()
    contactless = _sal(card, test_pki, Interface.CONTACTLESS)
    mf = contactless.card_application_connect("MF")
    contactless.did_authenticate(mf, "PACE.CAN", password=card.made.secrets.can)
    with pytest.raises(SecurityConditionNotSatisfied, match="contactless"):
        contactless.card_application_connect("encrypted")
    contactless.close()


@pytest.mark.parametrize(("error", "expected"), [
    (InvalidInputError("bad"), IncorrectParameter),
    (PinIncorrect(PinRef.PIN1, 2), AuthenticationFailed),
    (PinBlocked(PinRef.PIN2), PasswordBlocked),
    (WrongAccessCode(), AuthenticationFailed),
    (ZoneClosed("certificate"), NamedEntityNotFound),
    (AccessDenied(), SecurityConditionNotSatisfied),
    (TransportError("unplugged"), NoCard),
    (SignatureInvalidError(), InvalidSignatureError),
    (CardStatusError(StatusWord.FILE_NOT_FOUND), NamedEntityNotFound),
    (CardStatusError(StatusWord.UNKNOWN_ERROR), InternalError),
    (ReaderError("other"), InternalError),
])
def test_translate_maps_host_errors_to_result_minor(error: ReaderError,
                                                    expected: type[Iso24727Error]) -> None:
    translated = translate(error)
    assert type(translated) is expected
    assert translated.result.minor is expected.minor
    assert str(error) in translated.message
