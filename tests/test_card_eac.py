"""The chip's side of EAC (docs/eac-profile.md): Terminal Authentication with CV-certificate chains,
Chip Authentication, and the encrypted zone's access rules, all through raw APDUs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from neweid.card import Interface, VirtualCard
from neweid.card.image import load_state
from neweid.crypto.ca import CaTerminal
from neweid.crypto.ec import NIST_P521
from neweid.crypto.ta import SoftwareTerminalSigner, ta_sign
from neweid.formats.chat import NeidRight, Role
from neweid.formats.cvc import encode_cv_certificate
from neweid.formats.iso7816 import PinRef, PutDataTag, StatusWord
from neweid.formats.tlv import encode_tlv
from neweid.pki.eac import EacPki
from tests.test_card_eac_support import (
    ENCRYPTED_FILES,
    ENCRYPTED_SOD,
    CvPki,
    EacCard,
    EacTerminal,
    Party,
    eac_session,
    ga,
    personalise_eac,
    pso_data,
    put_data,
    seeded_rng,
)
from tests.test_card_support import ENCRYPTED, HOUSEHOLD, OK, PIN1, PUBLIC, SAMPLE_FILES, USER_CODE, Terminal

R = NeidRight
DV_RIGHTS = (R.READ_SPOUSE | R.READ_FATHER | R.READ_SEX | R.UPDATE_SPOUSE | R.UPDATE_HOUSEHOLD_REGION
             | R.PIN_MANAGEMENT)
TERMINAL_RIGHTS = R.READ_SPOUSE | R.READ_SEX


@pytest.fixture(scope="module")
def pki() -> CvPki:
    return CvPki.create()


@pytest.fixture(scope="module")
def dv(pki: CvPki) -> Party:
    return pki.dv(DV_RIGHTS)


@pytest.fixture(scope="module")
def agency(pki: CvPki, dv: Party) -> Party:
    return pki.terminal(dv, TERMINAL_RIGHTS)


@pytest.fixture(scope="module")
def eac_card(pki: CvPki, tmp_path_factory: pytest.TempPathFactory) -> EacCard:
    return personalise_eac(tmp_path_factory.mktemp("eac") / "card.json", pki)


@pytest.fixture
def card(eac_card: EacCard, tmp_path: Path) -> VirtualCard:
    return eac_card.load(tmp_path)


def authorised(card: VirtualCard, eac_card: EacCard, terminal: Party, dv: Party) -> EacTerminal:
    term = eac_session(card)
    term.eac(terminal, dv, eac_card.ca_public)
    return term


# --- the whole flow -------------------------------------------------------------------------------


def test_full_eac_flow_reads_exactly_the_granted_fields(card: VirtualCard, eac_card: EacCard, agency: Party,
                                                          dv: Party) -> None:
    term = authorised(card, eac_card, agency, dv)
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 1) == (ENCRYPTED_FILES[1], OK)  # spouse
    assert term.read_dg(ENCRYPTED.fid, 5) == (ENCRYPTED_FILES[5], OK)  # sex
    for number in (2, 3, 4, 6):  # father (the DV has it, the terminal not), mother, birthplace, CAN
        assert term.read_dg(ENCRYPTED.fid, number)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.select_ef(ENCRYPTED.fid, 0x011D, secure=True) == OK
    data, sw = term.secure(0x00, 0xB0, 0x00, 0x00, b"", 65536)
    assert (data, sw) == (ENCRYPTED_SOD, OK)  # the SOD opens with any read right


def test_encrypted_zone_needs_pin1_too(card: VirtualCard, eac_card: EacCard, agency: Party,
                                      dv: Party) -> None:
    term = authorised(card, eac_card, agency, dv)
    assert term.read_dg(ENCRYPTED.fid, 1)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 1) == (ENCRYPTED_FILES[1], OK)


def test_rights_need_chip_authentication(card: VirtualCard, eac_card: EacCard, agency: Party,
                                         dv: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    assert term.terminal_authentication([dv.cert, agency.cert], agency.key, eac_card.ca_public) == OK
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 1)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_pace_only_gives_no_encrypted_zone(card: VirtualCard) -> None:
    term = eac_session(card)
    term.pace_can()
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 1)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.read_dg(PUBLIC.fid, 2) == (b"A123456789", OK)


def test_rights_end_with_the_session(card: VirtualCard, eac_card: EacCard, agency: Party, dv: Party) -> None:
    authorised(card, eac_card, agency, dv)
    term = eac_session(card)  # power cycle
    term.pace_can()
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 1)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


# --- certificate chain ------------------------------------------------------------------------------


def test_verify_certificate_accepts_command_chaining(card: VirtualCard, pki: CvPki, dv: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    assert term.set_dst(pki.cvca.chr) == OK
    data = pso_data(dv.cert)
    assert term.secure(0x10, 0x2A, 0x00, 0xBE, data[:100])[1] == OK
    assert term.secure(0x00, 0x2A, 0x00, 0xBE, data[100:])[1] == OK
    assert term.set_dst(dv.chr) == OK  # imported


def test_unknown_car_is_6a88(card: VirtualCard) -> None:
    term = eac_session(card)
    term.pace_can()
    assert term.set_dst("TWNOBODY00001") == StatusWord.REFERENCE_DATA_NOT_FOUND


def test_wrong_chain_order(card: VirtualCard, pki: CvPki, dv: Party, agency: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    # the DV's key is unknown until its certificate is imported
    assert term.set_dst(dv.chr) == StatusWord.REFERENCE_DATA_NOT_FOUND
    # the terminal certificate presented to the CVCA key: not issued by it
    assert term.set_dst(pki.cvca.chr) == OK
    assert term.verify_certificate(agency.cert) == StatusWord.WRONG_DATA
    # MSE:Set AT with a terminal that was never imported
    assert term.set_at_ta(agency.chr, bytes(66)) == StatusWord.REFERENCE_DATA_NOT_FOUND


def test_bad_signature_is_6300(card: VirtualCard, pki: CvPki, dv: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    forged = type(dv.cert)(dv.cert.body, dv.cert.signature[:-1] + bytes([dv.cert.signature[-1] ^ 1]),
                           dv.cert.body_der)
    assert term.set_dst(pki.cvca.chr) == OK
    assert term.verify_certificate(forged) == StatusWord.AUTHENTICATION_FAILED
    assert term.set_dst(dv.chr) == StatusWord.REFERENCE_DATA_NOT_FOUND  # nothing imported


def test_certificate_signed_by_another_key_is_6300(card: VirtualCard, pki: CvPki) -> None:
    impostor = CvPki.create(seed=77)  # same CHR TWCVCA00001, other key
    dv = impostor.dv(DV_RIGHTS)
    term = eac_session(card)
    term.pace_can()
    assert term.import_chain([dv.cert]) == StatusWord.AUTHENTICATION_FAILED


def test_expired_certificate_is_6982(card: VirtualCard, pki: CvPki, dv: Party) -> None:
    old = pki.terminal(dv, TERMINAL_RIGHTS, chr_="TWOLDTERM00001", effective=dt.date(2025, 12, 1),
                       expiry=dt.date(2025, 12, 31))  # the chip's date is 2026-01-01
    term = eac_session(card)
    term.pace_can()
    assert term.import_chain([dv.cert]) == OK
    assert term.import_chain([old.cert]) == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_expired_dv_is_6982(card: VirtualCard, pki: CvPki) -> None:
    dv = pki.dv(DV_RIGHTS, chr_="TWDVOLD00001", effective=dt.date(2025, 1, 1), expiry=dt.date(2025, 12, 31))
    term = eac_session(card)
    term.pace_can()
    assert term.import_chain([dv.cert]) == StatusWord.SECURITY_STATUS_NOT_SATISFIED


@pytest.mark.parametrize("role", [Role.TERMINAL, Role.CVCA])
def test_dv_may_only_certify_terminals(card: VirtualCard, pki: CvPki, dv: Party, role: Role) -> None:
    other = pki.issue(dv, "TWODD00001", role, TERMINAL_RIGHTS)
    if role is Role.TERMINAL:
        term = eac_session(card)
        term.pace_can()
        assert term.import_chain([dv.cert, other.cert]) == OK
        # and a terminal may certify nothing
        grandchild = pki.issue(other, "TWGRAND00001", Role.TERMINAL, TERMINAL_RIGHTS)
        assert term.import_chain([grandchild.cert]) == StatusWord.SECURITY_STATUS_NOT_SATISFIED
        return
    term = eac_session(card)
    term.pace_can()
    assert term.import_chain([dv.cert, other.cert]) == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_cvca_may_not_certify_a_terminal_directly(card: VirtualCard, pki: CvPki) -> None:
    direct = pki.issue(pki.cvca, "TWDIRECT00001", Role.TERMINAL, TERMINAL_RIGHTS)
    term = eac_session(card)
    term.pace_can()
    assert term.import_chain([direct.cert]) == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_rights_widening_by_a_child_is_ignored(card: VirtualCard, eac_card: EacCard, pki: CvPki) -> None:
    dv = pki.dv(R.READ_SPOUSE, chr_="TWDVNARROW00001")
    greedy = pki.terminal(dv, R.READ_SPOUSE | R.READ_FATHER | R.READ_CAN, chr_="TWGREEDY00001")
    term = authorised(card, eac_card, greedy, dv)
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 1) == (ENCRYPTED_FILES[1], OK)
    for number in (2, 6):
        assert term.read_dg(ENCRYPTED.fid, number)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_wrong_terminal_signature_is_6300_and_resets_ta(card: VirtualCard, eac_card: EacCard, agency: Party,
                                                         dv: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    ca = CaTerminal(NIST_P521, eac_card.ca_public, rng=seeded_rng(5))
    assert term.import_chain([dv.cert, agency.cert]) == OK
    assert term.set_at_ta(agency.chr, ca.comp_ephemeral) == OK
    r_picc = term.get_challenge()
    wrong = ta_sign(SoftwareTerminalSigner(dv.key), term.id_picc, r_picc, ca.comp_ephemeral)
    assert term.external_authenticate(wrong) == StatusWord.AUTHENTICATION_FAILED
    # TA state reset: the next EXTERNAL AUTHENTICATE has no MSE:Set AT / challenge
    right = ta_sign(SoftwareTerminalSigner(agency.key), term.id_picc, r_picc, ca.comp_ephemeral)
    assert term.external_authenticate(right) == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.set_at_ta(agency.chr, ca.comp_ephemeral) == StatusWord.REFERENCE_DATA_NOT_FOUND


def test_signature_over_another_challenge_is_6300(card: VirtualCard, eac_card: EacCard, agency: Party,
                                                  dv: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    ca = CaTerminal(NIST_P521, eac_card.ca_public, rng=seeded_rng(5))
    assert term.import_chain([dv.cert, agency.cert]) == OK
    assert term.set_at_ta(agency.chr, ca.comp_ephemeral) == OK
    term.get_challenge()
    stale = ta_sign(SoftwareTerminalSigner(agency.key), term.id_picc, bytes(8), ca.comp_ephemeral)
    assert term.external_authenticate(stale) == StatusWord.AUTHENTICATION_FAILED


def test_external_authenticate_without_challenge_is_6985(card: VirtualCard, agency: Party, dv: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    assert term.import_chain([dv.cert, agency.cert]) == OK
    assert term.set_at_ta(agency.chr, bytes(66)) == OK
    assert term.external_authenticate(bytes(132)) == StatusWord.CONDITIONS_NOT_SATISFIED


def test_auxiliary_data_is_signed(card: VirtualCard, eac_card: EacCard, agency: Party, dv: Party) -> None:
    aux = encode_tlv(0x67, encode_tlv(0x73, bytes.fromhex("060904007F000703010401") + encode_tlv(0x53, b"x")))
    term = eac_session(card)
    term.pace_can()
    assert term.terminal_authentication([dv.cert, agency.cert], agency.key, eac_card.ca_public,
                                        aux=aux) == OK
    assert term.chip_authentication() == OK


def test_ta_without_pace_is_6982(card: VirtualCard, pki: CvPki) -> None:
    term = eac_session(card)
    data = encode_tlv(0x83, pki.cvca.chr.encode())
    assert term.plain(0x00, 0x22, 0x81, 0xB6, data)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.plain(0x00, 0x82, 0x00, 0x00, bytes(132))[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_ta_contactless_is_6985(card: VirtualCard, pki: CvPki) -> None:
    term = eac_session(card, Interface.CONTACTLESS)
    term.pace_can()
    assert term.set_dst(pki.cvca.chr) == StatusWord.CONDITIONS_NOT_SATISFIED


# --- the chip's date and trust points -------------------------------------------------------------------


def _image_date(path: Path) -> str | None:
    return load_state(path).card_date


def test_official_dv_advances_the_chip_date(card: VirtualCard, pki: CvPki) -> None:
    assert card.path is not None
    dv = pki.dv(DV_RIGHTS, chr_="TWDVNEW00001", effective=dt.date(2026, 3, 1), expiry=dt.date(2027, 3, 1))
    short = pki.terminal(dv, TERMINAL_RIGHTS, chr_="TWSHORT00001", effective=dt.date(2026, 1, 15),
                         expiry=dt.date(2026, 2, 1))
    term = eac_session(card)
    term.pace_can()
    assert term.import_chain([dv.cert]) == OK
    assert _image_date(card.path) == "20260301"  # persisted at once
    # a terminal certificate that was valid under the old date is now expired
    assert term.import_chain([short.cert]) == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_non_official_dv_and_terminal_do_not_advance_the_date(card: VirtualCard, pki: CvPki) -> None:
    assert card.path is not None
    dv = pki.dv(DV_RIGHTS, chr_="TWDVPRIV00001", role=Role.DV_NON_OFFICIAL, effective=dt.date(2026, 3, 1))
    term_cert = pki.terminal(dv, TERMINAL_RIGHTS, chr_="TWPRIVT00001", effective=dt.date(2026, 4, 1))
    term = eac_session(card)
    term.pace_can()
    assert term.import_chain([dv.cert, term_cert.cert]) == OK
    assert _image_date(card.path) == "20260101"


def test_link_certificate_rollover(card: VirtualCard, eac_card: EacCard, pki: CvPki, dv: Party,
                                   agency: Party) -> None:
    assert card.path is not None
    new = CvPki.create("TWCVCA00002", seed=60, effective=dt.date(2026, 2, 1), expiry=dt.date(2031, 2, 1))
    link = pki.issue(pki.cvca, "TWCVCA00002", Role.CVCA, NeidRight(int(R.READ_SPOUSE | R.READ_SEX)),
                     key=new.cvca.key, effective=dt.date(2026, 2, 1), expiry=dt.date(2031, 2, 1),
                     with_domain=True)
    term = eac_session(card)
    term.pace_can()
    assert term.import_chain([link.cert]) == OK
    card.power_off()
    reloaded = VirtualCard.load(card.path, rng=seeded_rng(12))
    assert _image_date(card.path) == "20260201"
    # the new CVCA's chain is accepted in a later session…
    new_dv = new.dv(DV_RIGHTS, chr_="TWDVMOI00002", effective=dt.date(2026, 2, 1))
    new_agency = new.terminal(new_dv, TERMINAL_RIGHTS, chr_="TWAGENCY100002", effective=dt.date(2026, 2, 1))
    term = authorised(reloaded, eac_card, new_agency, new_dv)
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 5) == (ENCRYPTED_FILES[5], OK)
    # …and so is the old one's
    term = authorised(reloaded, eac_card, agency, dv)
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 1) == (ENCRYPTED_FILES[1], OK)


def test_at_most_two_trust_points_are_kept(card: VirtualCard, pki: CvPki) -> None:
    assert card.path is not None
    term = eac_session(card)
    term.pace_can()
    previous = pki
    for number, month in ((2, 2), (3, 3)):
        nxt = CvPki.create(f"TWCVCA0000{number}", seed=60 + number, effective=dt.date(2026, month, 1))
        link = previous.issue(previous.cvca, nxt.cvca.chr, Role.CVCA, NeidRight.READ_SPOUSE, key=nxt.cvca.key,
                              effective=dt.date(2026, month, 1), expiry=dt.date(2031, 1, 1))
        assert term.import_chain([link.cert]) == OK
        previous = nxt
    assert [tp.chr for tp in load_state(card.path).trust_points] == ["TWCVCA00002", "TWCVCA00003"]
    term = eac_session(card)
    term.pace_can()
    assert term.set_dst("TWCVCA00001") == StatusWord.REFERENCE_DATA_NOT_FOUND
    assert term.set_dst("TWCVCA00003") == OK


def test_trust_points_and_date_survive_a_reload(card: VirtualCard, pki: CvPki) -> None:
    assert card.path is not None
    state = load_state(card.path)
    assert [tp.chr for tp in state.trust_points] == [pki.cvca.chr]
    assert state.trust_points[0].point == pki.cvca.cert.body.public_key.point
    assert state.card_date == "20260101"
    assert state.ca_key is not None


# --- Chip Authentication ----------------------------------------------------------------------------


def test_ca_new_keys_work_and_old_keys_are_rejected(card: VirtualCard, eac_card: EacCard, agency: Party,
                                                     dv: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    assert term.terminal_authentication([dv.cert, agency.cert], agency.key, eac_card.ca_public) == OK
    pace_sm = term.sm
    assert term.chip_authentication() == OK  # CaTerminal.finish checked T_PICC under the old keys
    assert pace_sm is not None and term.sm is not pace_sm
    assert term.read_dg(PUBLIC.fid, 2) == (b"A123456789", OK)  # the new keys work
    # the PACE keys no longer open the card: a plain 6988 and the session ends
    assert card.transmit(pace_sm.wrap_command(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")) == bytes.fromhex("6988")
    assert term.secure(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")[1] == StatusWord.SM_DATA_OBJECTS_INCORRECT


def test_ca_with_another_ephemeral_key_is_6a80(card: VirtualCard, eac_card: EacCard, agency: Party,
                                               dv: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    assert term.terminal_authentication([dv.cert, agency.cert], agency.key, eac_card.ca_public) == OK
    other = CaTerminal(NIST_P521, eac_card.ca_public, rng=seeded_rng(99))
    assert term.chip_authentication(other.ephemeral_public) == StatusWord.WRONG_DATA
    # the session (PACE keys) still stands, without rights
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 1)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_ca_before_ta_is_6985(card: VirtualCard) -> None:
    term = eac_session(card)
    term.pace_can()
    assert term.set_at_ca() == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.secure(0x00, 0x86, 0x00, 0x00, ga(encode_tlv(0x80, b"\x04" + bytes(132))), 256)[1] == 0x6985


def test_ta_after_ca_is_6985(card: VirtualCard, eac_card: EacCard, agency: Party, dv: Party,
                             pki: CvPki) -> None:
    term = authorised(card, eac_card, agency, dv)
    assert term.set_dst(pki.cvca.chr) == StatusWord.CONDITIONS_NOT_SATISFIED


def test_ca_with_unknown_protocol_or_key_id(card: VirtualCard, eac_card: EacCard, agency: Party,
                                            dv: Party) -> None:
    term = eac_session(card)
    term.pace_can()
    assert term.terminal_authentication([dv.cert, agency.cert], agency.key, eac_card.ca_public) == OK
    pace_oid = bytes.fromhex("04007F00070202040204")
    assert term.secure(0x00, 0x22, 0x41, 0xA4, encode_tlv(0x80, pace_oid))[1] == StatusWord.WRONG_DATA
    ca_oid = bytes.fromhex("04007F00070202030204")
    data = encode_tlv(0x80, ca_oid) + encode_tlv(0x84, b"\x02")
    assert term.secure(0x00, 0x22, 0x41, 0xA4, data)[1] == StatusWord.REFERENCE_DATA_NOT_FOUND


# --- updates ------------------------------------------------------------------------------------------


def test_updates_only_with_the_update_right(card: VirtualCard, eac_card: EacCard, pki: CvPki,
                                            dv: Party) -> None:
    office = pki.terminal(dv, R.UPDATE_SPOUSE | R.UPDATE_FATHER | R.UPDATE_HOUSEHOLD_REGION,
                          chr_="TWOFFICE00001")
    term = authorised(card, eac_card, office, dv)
    # spouse: granted by terminal and DV
    assert term.select_ef(ENCRYPTED.fid, 0x0101, secure=True) == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"new spouse")[1] == OK
    # father: the terminal has it, the DV not
    assert term.select_ef(ENCRYPTED.fid, 0x0102, secure=True) == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"x")[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    # sex is read-only whatever the rights
    assert term.select_ef(ENCRYPTED.fid, 0x0105, secure=True) == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"x")[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    # the zone's SOD is re-written with the same right
    assert term.select_ef(ENCRYPTED.fid, 0x011D, secure=True) == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"resigned")[1] == OK
    # household region
    assert term.select_ef(HOUSEHOLD.fid, 0x0101, secure=True) == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"region")[1] == OK
    # address (public DG4): no right
    assert term.select_ef(PUBLIC.fid, 0x0101, secure=True) == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"x")[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    # update rights give no read right, not even of the SOD
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 1)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.select_ef(ENCRYPTED.fid, 0x011D, secure=True) == OK
    assert term.read_all(secure=True)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    card.power_off()
    assert card.path is not None
    files = load_state(card.path).files
    assert files[f"{ENCRYPTED.fid:04X}/0101"].startswith(b"new spouse")
    assert files[f"{HOUSEHOLD.fid:04X}/0101"] == b"region" + SAMPLE_FILES[(HOUSEHOLD.fid, 0x0101)][6:]


def test_pin_management_right_unblocks_without_user_code(card: VirtualCard, eac_card: EacCard, pki: CvPki,
                                                         dv: Party) -> None:
    office = pki.terminal(dv, R.PIN_MANAGEMENT, chr_="TWCOUNTER00001")
    term = eac_session(card)
    term.pace_can()
    assert term.secure(0x00, 0x2C, 0x02, 0x81, b"654321")[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    term = authorised(card, eac_card, office, dv)
    assert term.secure(0x00, 0x2C, 0x02, 0x81, b"654321")[1] == OK
    assert term.verify(PinRef.PIN1, "654321") == OK
    assert term.verify(PinRef.USER_CODE, USER_CODE) == OK  # unrelated: still the default user code


# --- personalisation of trust points -------------------------------------------------------------------


def test_put_data_trust_point_rules(tmp_path: Path, pki: CvPki, dv: Party) -> None:
    card = VirtualCard.create(tmp_path / "c.json", rng=seeded_rng(4))
    card.power_on(Interface.CONTACT)
    term = Terminal(card)
    tag = PutDataTag.CVCA_TRUST_POINT
    assert put_data(term, tag, encode_cv_certificate(dv.cert)) == StatusWord.WRONG_DATA  # not a CVCA
    assert put_data(term, tag, b"\x7f\x21\x00") == StatusWord.WRONG_DATA
    forged = type(pki.cvca.cert)(pki.cvca.cert.body, bytes(132), pki.cvca.cert.body_der)
    assert put_data(term, tag, encode_cv_certificate(forged)) == StatusWord.AUTHENTICATION_FAILED
    assert put_data(term, tag, encode_cv_certificate(pki.cvca.cert)) == OK
    assert put_data(term, tag, encode_cv_certificate(pki.cvca.cert)) == OK  # idempotent
    second = CvPki.create("TWCVCA00009", seed=70, effective=dt.date(2026, 5, 1))
    third = CvPki.create("TWCVCA00010", seed=71)
    assert put_data(term, tag, encode_cv_certificate(second.cvca.cert)) == OK
    assert put_data(term, tag, encode_cv_certificate(third.cvca.cert)) == StatusWord.NOT_ENOUGH_MEMORY
    state = load_state(tmp_path / "c.json")
    assert [tp.chr for tp in state.trust_points] == [pki.cvca.chr, "TWCVCA00009"]
    assert state.card_date == "20260501"  # the newer CVCA's effective date


def test_trust_point_refused_after_activation(card: VirtualCard, pki: CvPki) -> None:
    term = eac_session(card)
    assert put_data(term, PutDataTag.CVCA_TRUST_POINT,
                    encode_cv_certificate(pki.cvca.cert)) == StatusWord.CONDITIONS_NOT_SATISFIED


# --- certificates from neweid.pki.eac -------------------------------------------------------------------


def test_chain_issued_by_the_eac_pki(tmp_path: Path) -> None:
    eac_pki = EacPki.open_or_create(tmp_path / "pki", now=dt.date(2026, 1, 1), passphrase=b"test only")
    eac_pki.issue_dv("MOI", R.READ_FATHER | R.READ_MOTHER | R.READ_CAN)
    credentials = eac_pki.issue_terminal("MOI", R.READ_FATHER | R.READ_CAN, days=30)
    made = personalise_eac(tmp_path / "card.json", encode_cv_certificate(eac_pki.cvca_certificate))
    card = VirtualCard.load(made.image, rng=seeded_rng(3))
    term = eac_session(card)
    term.pace_can()
    chain = [credentials.dv_certificate, credentials.certificate]
    assert term.terminal_authentication(chain, credentials.signer, made.ca_public) == OK
    assert term.chip_authentication() == OK
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.read_dg(ENCRYPTED.fid, 2) == (ENCRYPTED_FILES[2], OK)
    assert term.read_dg(ENCRYPTED.fid, 6) == (ENCRYPTED_FILES[6], OK)
    assert term.read_dg(ENCRYPTED.fid, 3)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
