"""The host side of EAC against the virtual card: PACE → TA → CA → PIN1 → only the granted encrypted-zone
fields (CARD-2, CARD-3, CARD-4, PKI-5; docs/eac-profile.md)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from neweid.card import VirtualCard
from neweid.formats.chat import READ_RIGHTS, NeidRight
from neweid.formats.filemap import Interface, Zone
from neweid.formats.iso7816 import PinRef, StatusWord
from neweid.formats.security_infos import (
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
)
from neweid.pki.eac import EacPki
from neweid.pki.testpki import TestPki
from neweid.terminal import (
    AccessDenied,
    CardNotGenuine,
    DataTampered,
    InProcessTransport,
    InterfaceNotAllowed,
    InvalidInputError,
    ReaderError,
    SecureChannelError,
)
from neweid.terminal.eac import (
    EacState,
    EacTerminal,
    SimpleAuthenticator,
    TerminalAuthenticator,
    chip_authentication_key,
)
from neweid.terminal.errors import TerminalNotAuthorised
from neweid.terminal.reader import NewEidReader
from tests.test_terminal_eac_support import NOW, TODAY, EacCard, EacChain, eac_card

SPOUSE_FATHER = NeidRight.READ_SPOUSE | NeidRight.READ_FATHER


@pytest.fixture(scope="module")
def chain() -> EacChain:
    return EacChain()


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPki, chain: EacChain) -> EacCard:
    return eac_card(tmp_path_factory.mktemp("eac") / "card", test_pki, seed=11, cvcas=[chain.cvca])


@pytest.fixture
def fresh(card: EacCard, tmp_path: Path) -> EacCard:
    """A copy of the card for tests that change its state."""
    copy = tmp_path / "copy.card"
    shutil.copy(card.path, copy)
    return EacCard(copy, card.made)


def open_reader(card: EacCard, test_pki: TestPki, interface: Interface = Interface.CONTACT) -> NewEidReader:
    reader = NewEidReader(InProcessTransport(card.load(), interface), [test_pki.csca_certificate],
                          now=lambda: NOW)
    reader.open_with_can(card.made.secrets.can)
    return reader


@pytest.fixture
def reader(card: EacCard, test_pki: TestPki) -> Iterator[NewEidReader]:
    with open_reader(card, test_pki) as r:
        yield r


def test_test_terminal_satisfies_the_protocol(chain: EacChain) -> None:
    assert isinstance(chain.terminal(SPOUSE_FATHER), TerminalAuthenticator)


def test_authorised_terminal_reads_exactly_its_fields(reader: NewEidReader, chain: EacChain,
                                                      card: EacCard) -> None:
    result = reader.authenticate_terminal(chain.terminal(SPOUSE_FATHER))
    assert result.terminal_chr == "TWAGENCY100001"
    assert result.rights == SPOUSE_FATHER
    assert reader.session.chip_authenticated
    fields = reader.read_encrypted(card.made.secrets.pin1)
    expected = card.made.content.encrypted
    assert fields.fields_read == ("spouse", "father")
    assert fields.spouse == expected.spouse and fields.father == expected.father
    assert fields.mother is None and fields.birthplace is None and fields.sex is None and fields.can is None
    assert fields.rights == SPOUSE_FATHER


def test_terminal_with_every_read_right_reads_the_whole_zone(reader: NewEidReader, chain: EacChain,
                                                             card: EacCard) -> None:
    reader.authenticate_terminal(chain.terminal(READ_RIGHTS))
    fields = reader.read_encrypted(card.made.secrets.pin1)
    expected = card.made.content.encrypted
    assert (fields.spouse, fields.father, fields.mother, fields.birthplace, fields.sex, fields.can) == (
        expected.spouse, expected.father, expected.mother, expected.birthplace, expected.sex, expected.can)


def test_field_not_granted_is_refused_by_the_chip(reader: NewEidReader, chain: EacChain,
                                                  card: EacCard) -> None:
    reader.authenticate_terminal(chain.terminal(NeidRight.READ_BIRTHPLACE))
    reader.verify_pin(PinRef.PIN1, card.made.secrets.pin1)
    with pytest.raises(AccessDenied) as info:
        reader.read_zone_data(Zone.ENCRYPTED, numbers=(1,))
    assert info.value.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_dv_narrows_the_terminal_rights(test_pki: TestPki, tmp_path: Path) -> None:
    narrow = EacChain(dv_rights=NeidRight.READ_SEX)
    made = eac_card(tmp_path / "narrow.card", test_pki, seed=12, cvcas=[narrow.cvca])
    with open_reader(made, test_pki) as r:
        result = r.authenticate_terminal(narrow.terminal(NeidRight.READ_SEX | NeidRight.READ_SPOUSE))
        assert result.rights == NeidRight.READ_SEX
        fields = r.read_encrypted(made.made.secrets.pin1)
    assert fields.fields_read == ("sex",)


def test_encrypted_zone_needs_eac(reader: NewEidReader, card: EacCard) -> None:
    with pytest.raises(AccessDenied):
        reader.read_encrypted(card.made.secrets.pin1)


def test_contactless_terminal_authentication_is_refused(card: EacCard, test_pki: TestPki,
                                                        chain: EacChain) -> None:
    with open_reader(card, test_pki, Interface.CONTACTLESS) as r, pytest.raises(InterfaceNotAllowed):
        r.authenticate_terminal(chain.terminal(SPOUSE_FATHER))


def test_wrong_terminal_key_is_refused_with_6300(reader: NewEidReader, chain: EacChain) -> None:
    impostor = chain.terminal(SPOUSE_FATHER, signing_key=chain.terminal(SPOUSE_FATHER).key)
    with pytest.raises(TerminalNotAuthorised) as info:
        reader.authenticate_terminal(impostor)
    assert info.value.sw == StatusWord.AUTHENTICATION_FAILED
    assert "signature" in info.value.reason
    assert reader.eac is None


def test_expired_terminal_certificate_is_refused_with_6982(reader: NewEidReader, chain: EacChain) -> None:
    expired = chain.terminal(SPOUSE_FATHER, effective=TODAY - dt.timedelta(days=30),
                             expiry=TODAY - dt.timedelta(days=2))
    with pytest.raises(TerminalNotAuthorised) as info:
        reader.authenticate_terminal(expired)
    assert info.value.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_unknown_cvca_is_refused_with_6a88(reader: NewEidReader) -> None:
    foreign = EacChain(cvca_chr="TWCVCAX0001", dv_chr="TWDVX00001")
    with pytest.raises(TerminalNotAuthorised) as info:
        reader.authenticate_terminal(foreign.terminal(SPOUSE_FATHER))
    assert info.value.sw == StatusWord.REFERENCE_DATA_NOT_FOUND
    assert "TWCVCAX0001" in str(info.value)


def test_forged_dv_signature_is_refused_with_6300(reader: NewEidReader, chain: EacChain) -> None:
    forged = EacChain(cvca_chr=chain.cvca_chr, dv_chr="TWDVFAKE00001")  # same CAR, another CVCA key
    with pytest.raises(TerminalNotAuthorised) as info:
        reader.authenticate_terminal(forged.terminal(SPOUSE_FATHER))
    assert info.value.sw == StatusWord.AUTHENTICATION_FAILED


def test_cloned_chip_is_detected_by_chip_authentication(card: EacCard, test_pki: TestPki, chain: EacChain,
                                                        tmp_path: Path) -> None:
    other = eac_card(tmp_path / "other.card", test_pki, seed=13, cvcas=[chain.cvca])
    with open_reader(other, test_pki) as r:
        other_security = r.read_card_security()  # genuine, signed by the DS, but names another CA key
    with open_reader(card, test_pki) as r:
        terminal = EacTerminal(r.session, chain.terminal(SPOUSE_FATHER), [test_pki.csca_certificate],
                               now=lambda: NOW)
        with pytest.raises(CardNotGenuine, match="cloned"):
            terminal.run(other_security)
        assert terminal.state is EacState.FAILED


def test_tampered_card_security_is_detected(reader: NewEidReader, chain: EacChain) -> None:
    raw = bytearray(reader.read_card_security())
    raw[len(raw) // 3] ^= 0x01
    terminal = EacTerminal(reader.session, chain.terminal(SPOUSE_FATHER), [],
                           now=lambda: NOW)
    with pytest.raises(DataTampered):
        terminal.verify_card_security(bytes(raw))


def test_card_security_of_another_csca_is_refused(reader: NewEidReader, chain: EacChain,
                                                  tmp_path: Path) -> None:
    other = TestPki.open_or_create(tmp_path / "other-pki", now=NOW, passphrase=b"x")
    terminal = EacTerminal(reader.session, chain.terminal(SPOUSE_FATHER), [other.csca_certificate],
                           now=lambda: NOW)
    with pytest.raises(DataTampered):
        terminal.verify_card_security()


def test_state_machine_enforces_the_order(reader: NewEidReader, chain: EacChain) -> None:
    terminal = EacTerminal(reader.session, chain.terminal(SPOUSE_FATHER), [], now=lambda: NOW)
    assert terminal.state is EacState.PACE_ESTABLISHED
    with pytest.raises(ReaderError, match="expected"):
        terminal.authenticate_chip()
    with pytest.raises(ReaderError, match="expected"):
        terminal.verify_certificates()


def test_step_by_step_states(reader: NewEidReader, chain: EacChain, test_pki: TestPki) -> None:
    terminal = EacTerminal(reader.session, chain.terminal(SPOUSE_FATHER), [test_pki.csca_certificate],
                           now=lambda: NOW)
    key = terminal.verify_card_security()
    assert key.curve.name == "secp521r1"
    states = [terminal.state]
    for step in (terminal.verify_certificates, terminal.authenticate_terminal, terminal.authenticate_chip):
        step()
        states.append(terminal.state)
    assert states == [EacState.CARD_SECURITY_VERIFIED, EacState.CERTIFICATES_VERIFIED,
                      EacState.TERMINAL_AUTHENTICATED, EacState.CHIP_AUTHENTICATED]


def test_secure_messaging_continues_under_the_ca_keys(reader: NewEidReader, chain: EacChain,
                                                      card: EacCard) -> None:
    reader.authenticate_terminal(chain.terminal(SPOUSE_FATHER))
    public = reader.read_public()  # every command now runs under the CA session keys
    assert public.card_serial == card.made.content.public.card_serial
    reader.active_authentication()


def test_new_pace_drops_the_authorisation(reader: NewEidReader, chain: EacChain, card: EacCard) -> None:
    reader.authenticate_terminal(chain.terminal(SPOUSE_FATHER))
    reader.open_with_can(card.made.secrets.can)
    assert reader.eac is None
    with pytest.raises(AccessDenied):
        reader.read_encrypted(card.made.secrets.pin1)


def test_eac_needs_pace(card: EacCard, chain: EacChain, test_pki: TestPki) -> None:
    with NewEidReader(InProcessTransport(card.load(), Interface.CONTACT), []) as r, \
            pytest.raises(SecureChannelError):
        EacTerminal(r.session, chain.terminal(SPOUSE_FATHER), [])


def test_chain_out_of_order_and_garbage_are_input_errors(reader: NewEidReader, chain: EacChain) -> None:
    terminal = chain.terminal(SPOUSE_FATHER)
    with pytest.raises(InvalidInputError, match="out of order"):
        EacTerminal(reader.session, SimpleAuthenticator(list(reversed(terminal.chain)), terminal.sign), [])
    with pytest.raises(InvalidInputError, match="not a CV certificate"):
        EacTerminal(reader.session, SimpleAuthenticator([b"\x7f\x21\x00"], terminal.sign), [])
    with pytest.raises(InvalidInputError, match="empty"):
        EacTerminal(reader.session, SimpleAuthenticator([], terminal.sign), [])


def test_chip_authentication_key_selection() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    spki = ec.generate_private_key(ec.SECP521R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key = chip_authentication_key([PACEInfo(parameter_id=18), ChipAuthenticationInfo(key_id=1),
                                   ChipAuthenticationPublicKeyInfo(spki, key_id=2),
                                   ChipAuthenticationPublicKeyInfo(spki, key_id=1)])
    assert key.key_id == 1 and key.curve.name == "secp521r1"
    with pytest.raises(CardNotGenuine):
        chip_authentication_key([PACEInfo(parameter_id=18)])
    with pytest.raises(CardNotGenuine, match="key id"):
        chip_authentication_key([ChipAuthenticationInfo(key_id=1),
                                 ChipAuthenticationPublicKeyInfo(spki, key_id=2)])
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_spki = rsa.generate_private_key(65537, 1024).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(CardNotGenuine, match="not an EC key"):
        chip_authentication_key([ChipAuthenticationInfo(), ChipAuthenticationPublicKeyInfo(rsa_spki)])


def test_pki_eac_credentials_and_link_certificate(tmp_path: Path, test_pki: TestPki) -> None:
    """neweid.pki.eac.TerminalCredentials is a TerminalAuthenticator, and a card holding the old trust
    point accepts a terminal of the new CVCA through the link certificate."""
    directory = tmp_path / "pki"
    eac = EacPki.open_or_create(directory, now=NOW, passphrase=b"x")
    pki = TestPki.open_or_create(directory, now=NOW, passphrase=b"x")
    old_cvca = eac.cvca_certificate
    from neweid.formats.cvc import encode_cv_certificate

    made = eac_card(tmp_path / "old.card", pki, seed=14, cvcas=[encode_cv_certificate(old_cvca)])
    eac.link(now=NOW)
    eac.issue_dv("MOI", READ_RIGHTS)
    credentials = eac.issue_terminal("MOI", NeidRight.READ_MOTHER, out_dir=tmp_path / "term")
    assert credentials.links, "a terminal of the new CVCA carries the link certificate"
    with open_reader(made, pki) as r:
        assert r.authenticate_terminal(credentials).rights == NeidRight.READ_MOTHER
        assert r.read_encrypted(made.made.secrets.pin1).fields_read == ("mother",)
    # the chip learned the new trust point: the next session needs no link
    with open_reader(EacCard(made.path, made.made), pki) as r:
        no_links = SimpleAuthenticator(list(credentials.chain), credentials.sign)
        assert r.authenticate_terminal(no_links).terminal_chr == credentials.chr


def test_card_without_trust_point_refuses_every_terminal(test_pki: TestPki, tmp_path: Path,
                                                         chain: EacChain) -> None:
    made = eac_card(tmp_path / "plain.card", test_pki, seed=15)
    with open_reader(made, test_pki) as r, pytest.raises(TerminalNotAuthorised):
        r.authenticate_terminal(chain.terminal(SPOUSE_FATHER))


def test_virtual_card_reload_keeps_trust_point(fresh: EacCard, test_pki: TestPki, chain: EacChain) -> None:
    VirtualCard.load(fresh.path).power_off()
    with open_reader(fresh, test_pki) as r:
        assert r.authenticate_terminal(chain.terminal(NeidRight.READ_CAN)).rights == NeidRight.READ_CAN
        assert r.read_encrypted(fresh.made.secrets.pin1).can == fresh.made.content.encrypted.can


def test_short_apdus_only_use_command_chaining(card: EacCard, test_pki: TestPki, chain: EacChain) -> None:
    """Without extended length, PSO:Verify Certificate (a certificate longer than one short APDU) is
    sent with command chaining."""
    with NewEidReader(InProcessTransport(card.load(), Interface.CONTACT), [test_pki.csca_certificate],
                      now=lambda: NOW, extended_length=False) as r:
        r.open_with_can(card.made.secrets.can)
        assert r.authenticate_terminal(chain.terminal(SPOUSE_FATHER)).rights == SPOUSE_FATHER
        assert r.read_encrypted(card.made.secrets.pin1).fields_read == ("spouse", "father")
