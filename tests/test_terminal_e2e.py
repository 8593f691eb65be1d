"""End to end: NewEidReader against neweid.card's VirtualCard, personalised by APDUs with zones signed
by a test Document Signer (CARD-2, CARD-3, CARD-4, CARD-5, CARD-8, PKI-4)."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.card import VirtualCard
from neweid.crypto.passive import verify_card_security
from neweid.formats.filemap import (
    EF_CARD_ACCESS_FID,
    EF_CARD_SECURITY_FID,
    EF_DIR_FID,
    ZONES,
    Interface,
    Zone,
    zone_spec,
)
from neweid.formats.iso7816 import Ins, PinRef, PutDataTag, StatusWord
from neweid.formats.mrz import mrz_key_seed
from neweid.formats.security_infos import ActiveAuthenticationInfo, PACEInfo, encode_security_infos
from neweid.formats.sex import Sex
from neweid.formats.tlv import encode_tlv, parse_tlvs
from neweid.formats.zones import (
    AaPublicKey,
    Address,
    BirthDate,
    Birthplace,
    CanDG,
    CardSerial,
    EncryptedZone,
    FatherName,
    HouseholdRegion,
    HouseholdZone,
    IdNumberDG,
    IssueDate,
    MaritalStatus,
    MaritalStatusDG,
    MilitaryService,
    MilitaryStatus,
    MotherName,
    Photo,
    PublicName,
    PublicZone,
    RenewalDate,
    SexDG,
    SpouseName,
)
from neweid.pki.csca import Csca
from neweid.pki.document_signer import DocumentSigner
from neweid.pki.keystore import FileKeyStore
from neweid.terminal import (
    AccessDenied,
    CardNotGenuine,
    CardStatusError,
    DataTampered,
    InProcessTransport,
    InterfaceNotAllowed,
    InvalidInputError,
    PinBlocked,
    PinIncorrect,
    PinNotSet,
    UserCodeNotChanged,
    WrongAccessCode,
)
from neweid.terminal.reader import NewEidReader, PinState
from neweid.terminal.session import CardSession

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
SERIAL = "NE0123456"
CAN = "123456"
BIRTH = dt.date(1990, 5, 17)
RENEWAL = dt.date(2036, 3, 1)
MRZ_SEED = mrz_key_seed(SERIAL, BIRTH, RENEWAL)
USER_CODE = "Abc2026"  # the default one of the pickup confirmation
PIN1 = "135790"

REGION = HouseholdRegion("63000", "臺北市", "63000030", "大安區", "63000030007", "錦安里", 12)
PHOTO = b"\xff\xd8" + random.Random(5).randbytes(20_000) + b"\xff\xd9"  # long: extended-length reads


def _public_zone(aa_spki: bytes) -> PublicZone:
    return PublicZone(
        name=PublicName("王小明", "WANG, HSIAO-MING"),
        id_number=IdNumberDG("A123456789"),
        birth_date=BirthDate(BIRTH),
        address=Address("臺北市大安區錦安里12鄰和平東路一段100號3樓", REGION.village_code),
        marital_status=MaritalStatusDG(MaritalStatus.SINGLE),
        military_service=MilitaryService.of(MilitaryStatus.REGULAR),
        card_serial=CardSerial(SERIAL),
        renewal_date=RenewalDate(RENEWAL),
        issue_date=IssueDate(NOW.date()),
        photo=Photo(PHOTO),
        aa_public_key=AaPublicKey(aa_spki),
    )


@dataclass(frozen=True)
class Pki:
    csca: Csca
    ds: DocumentSigner
    other_csca: Csca


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    store = FileKeyStore(tmp_path_factory.mktemp("keys"), b"test passphrase only")
    start = NOW - dt.timedelta(days=365)
    csca = Csca.create(store, "csca", not_before=start)
    other = Csca.create(store, "other-csca", not_before=start, common_name="Someone else's CSCA")
    return Pki(csca, DocumentSigner.create(store, "ds", csca, not_before=start), other)


def _put(session: CardSession, tag: PutDataTag, value: str) -> None:
    response = session.send(0x00, Ins.PUT_DATA, tag >> 8, tag & 0xFF, value.encode())
    session.raise_for_status(response, "PUT DATA")


def _write(session: CardSession, fid: int, content: bytes) -> None:
    session.select_ef(fid)
    for offset in range(0, len(content), 255):
        part = content[offset:offset + 255]
        response = session.send(0x00, Ins.UPDATE_BINARY, offset >> 8, offset & 0xFF, part)
        session.raise_for_status(response, "UPDATE BINARY")


@dataclass(frozen=True)
class Personalised:
    image: Path
    public: PublicZone


def _personalise(path: Path, pki: Pki, *, seed: int, clone_of: PublicZone | None = None,
                 tamper_dg: int | None = None) -> Personalised:
    """Personalise a card by APDUs. ``clone_of``: copy another card's (signed) public zone instead of
    the card's own AA key - a cloned chip. ``tamper_dg``: alter that DG after signing."""
    card = VirtualCard.create(path, rng=random.Random(seed).randbytes)
    transport = InProcessTransport(card, Interface.CONTACT)
    session = CardSession(transport)
    for tag, value in ((PutDataTag.CAN, CAN), (PutDataTag.MRZ_KEY_SEED, MRZ_SEED),
                       (PutDataTag.USER_CODE, USER_CODE), (PutDataTag.PIN1, PIN1),
                       (PutDataTag.CARD_DATE, NOW.strftime("%Y%m%d"))):
        _put(session, tag, value)
    generated = session.send(0x00, Ins.GENERATE_ASYMMETRIC_KEY_PAIR, 0x00, 0x01, le=256)
    session.raise_for_status(generated, "GENERATE ASYMMETRIC KEY PAIR")
    point = parse_tlvs(parse_tlvs(generated.data)[0].value)[0].value
    spki = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP521R1(), point).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    public = clone_of or _public_zone(spki)
    household_dgs = HouseholdZone(REGION).to_data_groups()
    encrypted_dgs = EncryptedZone(SpouseName(None), FatherName("王大明"), MotherName("李美麗"),
                                  Birthplace("臺北市", "63000"), SexDG(Sex.MALE), CanDG(CAN)).to_data_groups()
    public_dgs = public.to_data_groups()
    household_sod = pki.ds.sign_zone(household_dgs, signing_time=NOW)
    public_sod = pki.ds.sign_zone(public_dgs, signing_time=NOW)
    if tamper_dg is not None:
        assert tamper_dg == 4  # the address: a plausible forgery
        public_dgs[4] = Address(public.address.address + "之1", public.address.village_code).encode()
    infos = [PACEInfo(parameter_id=18), ActiveAuthenticationInfo()]
    card_access = encode_security_infos([PACEInfo(parameter_id=18)])
    ef_dir = b"".join(encode_tlv(0x61, encode_tlv(0x4F, z.aid) + encode_tlv(0x50, z.zone.value.encode()))
                      for z in ZONES)
    session.select_mf()
    _write(session, EF_DIR_FID, ef_dir)
    _write(session, EF_CARD_ACCESS_FID, card_access)
    _write(session, EF_CARD_SECURITY_FID, pki.ds.sign_card_security(encode_security_infos(infos),
                                                                     signing_time=NOW))
    encrypted_sod = pki.ds.sign_zone(encrypted_dgs, signing_time=NOW)
    for zone, groups, sod in ((Zone.HOUSEHOLD, household_dgs, household_sod),
                              (Zone.PUBLIC, public_dgs, public_sod),
                              (Zone.ENCRYPTED, encrypted_dgs, encrypted_sod)):
        spec = zone_spec(zone)
        session.select_aid(spec.aid)
        for number, content in groups.items():
            _write(session, spec.data_group(number).fid, content)
        _write(session, spec.file_by_name("SOD").fid, sod)
    session.select_mf()
    session.raise_for_status(session.send(0x00, Ins.ACTIVATE, 0x00, 0x00), "ACTIVATE")
    transport.close()
    return Personalised(path, public)


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Personalised:
    return _personalise(tmp_path_factory.mktemp("cards") / "genuine.card", pki, seed=1)


@pytest.fixture
def card(genuine: Personalised, tmp_path: Path) -> VirtualCard:
    """A fresh copy of the personalised card for each test (PIN counters are persistent)."""
    copy = tmp_path / "card.image"
    shutil.copyfile(genuine.image, copy)
    return VirtualCard.load(copy)


ReaderFactory = Callable[..., NewEidReader]


@pytest.fixture
def open_reader(card: VirtualCard, pki: Pki) -> Iterator[ReaderFactory]:
    readers: list[NewEidReader] = []

    def factory(interface: Interface = Interface.CONTACTLESS, anchors: list[x509.Certificate] | None = None,
                target: VirtualCard | None = None) -> NewEidReader:
        reader = NewEidReader(InProcessTransport(target or card, interface),
                              [pki.csca.certificate] if anchors is None else anchors, now=lambda: NOW)
        readers.append(reader)
        return reader

    yield factory
    for reader in readers:
        reader.close()


# -- zones ------------------------------------------------------------------------------------------
def test_household_zone_without_access_code(open_reader: ReaderFactory) -> None:
    reader = open_reader(Interface.CONTACTLESS)
    assert reader.read_household() == HouseholdZone(REGION)
    uid = reader.uid()
    assert uid is not None and len(uid) == 4 and uid[0] == 0x08  # random UID (CARD-8)


def test_fresh_uid_per_power_up(card: VirtualCard, open_reader: ReaderFactory) -> None:
    first = open_reader(Interface.CONTACTLESS)
    uid = first.uid()
    first.close()
    assert open_reader(Interface.CONTACTLESS).uid() != uid
    assert open_reader(Interface.CONTACT).uid() is None


def test_public_zone_needs_pace(open_reader: ReaderFactory) -> None:
    with pytest.raises(AccessDenied):
        open_reader().read_public()


def test_pace_with_can_reads_the_public_zone(open_reader: ReaderFactory, genuine: Personalised) -> None:
    reader = open_reader(Interface.CONTACTLESS)
    reader.open_with_can(CAN)
    assert reader.session.extended_length  # announced in the card's ATR
    public = reader.read_public()
    assert public == genuine.public
    assert public.photo.jpeg == PHOTO and public.card_serial.can == CAN
    assert reader.read_household() == HouseholdZone(REGION)  # also under secure messaging


def test_pace_with_mrz_and_active_authentication(open_reader: ReaderFactory) -> None:
    reader = open_reader(Interface.CONTACT)
    reader.open_with_mrz(MRZ_SEED)
    reader.active_authentication()  # reads DG15 + SOD, checks them by PA first
    assert reader.read_public().name.chinese_name == "王小明"
    reader.active_authentication(rng=random.Random(3).randbytes)


def test_wrong_can_then_right_can(open_reader: ReaderFactory) -> None:
    reader = open_reader()
    with pytest.raises(WrongAccessCode, match="wrong CAN or MRZ"):
        reader.open_with_can("654321")
    with pytest.raises(WrongAccessCode):
        reader.open_with_mrz(MRZ_SEED.replace("NE", "NF"))
    with pytest.raises(AccessDenied):
        reader.read_public()
    reader.open_with_can(CAN)
    assert reader.read_public().id_number.id_number == "A123456789"


def test_malformed_can_is_rejected_on_the_host(open_reader: ReaderFactory) -> None:
    with pytest.raises(InvalidInputError):
        open_reader().open_with_can("12 345")


def test_card_security_verifies(open_reader: ReaderFactory, pki: Pki) -> None:
    reader = open_reader()
    with pytest.raises(AccessDenied):
        reader.read_card_security()
    reader.open_with_can(CAN)
    result = verify_card_security(reader.read_card_security(), [pki.csca.certificate], at=NOW)
    assert any(isinstance(info, PACEInfo) for info in result.security_infos)


def test_unknown_csca_is_data_tampered(open_reader: ReaderFactory, pki: Pki) -> None:
    reader = open_reader(anchors=[pki.other_csca.certificate])
    with pytest.raises(DataTampered) as info:
        reader.read_household()
    assert info.value.reason == "UNKNOWN_SIGNER"
    assert reader.read_household(verify=False) == HouseholdZone(REGION)


def test_tampered_data_group(tmp_path: Path, pki: Pki, open_reader: ReaderFactory) -> None:
    tampered = VirtualCard.load(_personalise(tmp_path / "t.card", pki, seed=2, tamper_dg=4).image)
    reader = open_reader(target=tampered)
    reader.open_with_can(CAN)
    with pytest.raises(DataTampered) as info:
        reader.read_public()
    assert (info.value.dg, info.value.reason) == (4, "HASH_MISMATCH")
    reader.active_authentication()  # DG15 and its hash are intact: AA still checks out


def test_cloned_chip_fails_active_authentication(tmp_path: Path, pki: Pki, genuine: Personalised,
                                                 open_reader: ReaderFactory) -> None:
    cloned = _personalise(tmp_path / "clone.card", pki, seed=3, clone_of=genuine.public)
    clone = VirtualCard.load(cloned.image)
    reader = open_reader(target=clone)
    reader.open_with_can(CAN)
    assert reader.read_public() == genuine.public  # the copied data pass Passive Authentication
    with pytest.raises(CardNotGenuine):
        reader.active_authentication()


def test_encrypted_zone_needs_contact_and_terminal_authentication(open_reader: ReaderFactory) -> None:
    contactless = open_reader(Interface.CONTACTLESS)
    contactless.open_with_can(CAN)
    with pytest.raises(InterfaceNotAllowed):
        contactless.read_zone(Zone.ENCRYPTED)
    contactless.close()
    contact = open_reader(Interface.CONTACT)
    contact.open_with_can(CAN)
    contact.verify_pin(PinRef.PIN1, PIN1)
    with pytest.raises(AccessDenied):  # no Terminal Authentication yet (EAC issue)
        contact.read_zone(Zone.ENCRYPTED)


def test_certificate_zone_closed_when_the_citizen_opted_out(open_reader: ReaderFactory) -> None:
    # this card was personalised without certificate-zone keys: the zone is closed (MGMT-5)
    reader = open_reader(Interface.CONTACT)
    reader.open_with_can(CAN)
    with pytest.raises(CardStatusError) as info:
        reader.read_zone(Zone.CERTIFICATE)
    assert info.value.sw == StatusWord.FILE_NOT_FOUND


# -- PINs ---------------------------------------------------------------------------------------------
def test_pin_commands_refused_contactless(open_reader: ReaderFactory) -> None:
    reader = open_reader(Interface.CONTACTLESS)
    reader.open_with_can(CAN)
    with pytest.raises(InterfaceNotAllowed):
        reader.verify_pin(PinRef.PIN1, PIN1)


def test_pin_needs_secure_messaging(open_reader: ReaderFactory) -> None:
    with pytest.raises(AccessDenied):
        open_reader(Interface.CONTACT).verify_pin(PinRef.PIN1, PIN1)


def test_verify_and_change_pin1(open_reader: ReaderFactory) -> None:
    reader = open_reader(Interface.CONTACT)
    reader.open_with_can(CAN)
    status = reader.pin_status(PinRef.PIN1)
    assert (status.state, status.tries_left, status.verified) == (PinState.NOT_VERIFIED, 3, False)
    reader.verify_pin(PinRef.PIN1, PIN1)
    assert reader.pin_status(PinRef.PIN1).verified
    reader.change_pin(PinRef.PIN1, PIN1, "246802")
    with pytest.raises(PinIncorrect):
        reader.verify_pin(PinRef.PIN1, PIN1)
    reader.verify_pin(PinRef.PIN1, "246802")


def test_pin_format_error_uses_no_try(open_reader: ReaderFactory) -> None:
    reader = open_reader(Interface.CONTACT)
    reader.open_with_can(CAN)
    with pytest.raises(InvalidInputError, match="format"):
        reader.verify_pin(PinRef.PIN1, "12345")
    assert reader.pin_status(PinRef.PIN1).tries_left == 3


def test_pin_blocks_after_three_wrong_tries_and_unblocks(open_reader: ReaderFactory) -> None:
    reader = open_reader(Interface.CONTACT)
    reader.open_with_can(CAN)
    for left in (2, 1):
        with pytest.raises(PinIncorrect) as info:
            reader.verify_pin(PinRef.PIN1, "000000")
        assert info.value.tries_left == left and info.value.sw == 0x63C0 | left
    with pytest.raises(PinBlocked):
        reader.verify_pin(PinRef.PIN1, "000000")
    with pytest.raises(PinBlocked, match="unblock it with the user code"):
        reader.verify_pin(PinRef.PIN1, PIN1)  # even the right PIN
    assert reader.pin_status(PinRef.PIN1).blocked
    reader.close()

    # the counter lives on the chip: still blocked after a power cycle
    reader = open_reader(Interface.CONTACT)
    reader.open_with_can(CAN)
    assert reader.pin_status(PinRef.PIN1).state is PinState.BLOCKED
    with pytest.raises(UserCodeNotChanged):  # the default user code cannot unblock
        reader.unblock_pin(PinRef.PIN1, USER_CODE)
    reader.change_user_code(USER_CODE, "NewCode42")
    reader.unblock_pin(PinRef.PIN1, "NewCode42")  # P1 03: only resets the counter
    assert reader.pin_status(PinRef.PIN1).tries_left == 3
    reader.verify_pin(PinRef.PIN1, PIN1)
    reader.unblock_pin(PinRef.PIN1, "NewCode42", "975310")  # P1 02: with a new PIN
    reader.verify_pin(PinRef.PIN1, "975310")


def test_pin2_not_set_until_the_user_code_sets_it(open_reader: ReaderFactory) -> None:
    reader = open_reader(Interface.CONTACT)
    reader.open_with_can(CAN)
    assert reader.pin_status(PinRef.PIN2).not_set
    with pytest.raises(PinNotSet):
        reader.verify_pin(PinRef.PIN2, "12345678")
    reader.change_user_code(USER_CODE, "Zx90817")
    reader.unblock_pin(PinRef.PIN2, "Zx90817", "12345678")
    reader.verify_pin(PinRef.PIN2, "12345678")
    assert reader.pin_status(PinRef.PIN2).verified


def test_wrong_user_code(open_reader: ReaderFactory) -> None:
    reader = open_reader(Interface.CONTACT)
    reader.open_with_can(CAN)
    with pytest.raises(PinIncorrect) as info:
        reader.unblock_pin(PinRef.PIN1, "Wrong99", "111111")
    assert info.value.ref is PinRef.USER_CODE and info.value.tries_left == 9
    with pytest.raises(InvalidInputError):
        reader.unblock_pin(PinRef.USER_CODE, USER_CODE)
