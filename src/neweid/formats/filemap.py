"""The New eID chip's file layout (CARD-2, CARD-3, CARD-7, CARD-9): one table, used by the card,
the host side and docs/card-file-map.md alike.

Layout::

    MF 3F00
    ├── EF.DIR          2F00  SFI 1E  application templates of the zones (always readable)
    ├── EF.CardAccess   011C  SFI 1C  SecurityInfos: PACEInfo (always readable, no SM)
    ├── EF.CardSecurity 011D  SFI 1D  SignedData over SecurityInfos (after PACE)
    ├── DF household   AID F04E4549440148  FID 4E01   household zone  (戶籍地區)
    ├── DF public      AID F04E4549440150  FID 4E02   public zone     (公開區)
    ├── DF encrypted   AID F04E4549440145  FID 4E03   encrypted zone  (加密區)
    └── DF certificate AID F04E4549440143  FID 4E04   citizen-certificate zone (自然人憑證區)

Inside each zone DF the data groups are EFs with FID ``01nn`` and SFI ``nn`` (DG n), and the zone's
security object (CMS SignedData over the hashes of the zone's data groups) is EF.SOD, FID 011D, SFI 1D.
The ICAO travel application (AID A0000002471001) is deliberately absent: SELECT answers 6A82.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag, StrEnum

from neweid.formats.chat import READ_RIGHTS, NeidRight


class Zone(StrEnum):
    HOUSEHOLD = "household"
    PUBLIC = "public"
    ENCRYPTED = "encrypted"
    CERTIFICATE = "certificate"


class Access(IntFlag):
    """What a session must have established before a file can be read.

    ``ALWAYS`` is the empty set. Conditions combine: ``SM | PIN1 | TA`` means secure messaging (from
    PACE), PIN1 verified in this session and a Terminal Authentication whose effective CHAT grants the
    data group.
    """

    ALWAYS = 0
    SM = 1  # secure messaging after PACE with the CAN or the MRZ
    PIN1 = 2
    PIN2 = 4
    TA = 8  # Terminal Authentication granting this data group (EAC)
    NEVER = 16  # no command can ever satisfy it (e.g. an update of a read-only file)


class Interface(StrEnum):
    CONTACT = "contact"
    CONTACTLESS = "contactless"


@dataclass(frozen=True)
class FileSpec:
    """One elementary file of the chip."""

    zone: Zone | None  # None for the master file's EFs
    name: str
    fid: int
    sfi: int
    content: str
    encoding: str
    read: Access
    update: Access  # Access.NEVER: read-only once personalised (CARD-7)
    contactless: bool  # readable over the contactless interface
    max_size: int
    # With Access.TA in a rule: the CHAT rights (formats.chat) of which the terminal's effective
    # authorisation must hold at least one.
    read_right: NeidRight = NeidRight.NONE
    update_right: NeidRight = NeidRight.NONE


@dataclass(frozen=True)
class ZoneSpec:
    zone: Zone
    fid: int
    aid: bytes
    label_zh: str
    contactless: bool
    files: tuple[FileSpec, ...]

    def file_by_name(self, name: str) -> FileSpec:
        for spec in self.files:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def data_group(self, number: int) -> FileSpec:
        return self.file_by_name(f"DG{number}")


MF_FID = 0x3F00
EF_DIR_FID = 0x2F00
EF_CARD_ACCESS_FID = 0x011C
EF_CARD_SECURITY_FID = 0x011D
EF_SOD_FID = 0x011D
EF_SOD_SFI = 0x1D
ICAO_TRAVEL_AID = bytes.fromhex("A0000002471001")

AID_PREFIX = bytes.fromhex("F04E45494401")  # F0 = proprietary, "NEID", application family 01

_RO = Access.NEVER  # read-only once personalised (CARD-7)
# Updatable data groups (CARD-7): only by an update terminal authorised through TA over SM.
_UPD = Access.SM | Access.TA


def _dg(zone: Zone, number: int, content: str, encoding: str, read: Access, update: Access,
        contactless: bool, max_size: int, read_right: NeidRight = NeidRight.NONE,
        update_right: NeidRight = NeidRight.NONE) -> FileSpec:
    return FileSpec(zone, f"DG{number}", 0x0100 | number, number, content, encoding, read, update,
                    contactless, max_size, read_right, update_right)


def _sod(zone: Zone, read: Access, update_right: NeidRight, contactless: bool,
         read_right: NeidRight = NeidRight.NONE) -> FileSpec:
    """A zone's security object; re-signed (so updatable like the zone's DGs) when a DG is updated."""
    return FileSpec(zone, "SOD", EF_SOD_FID, EF_SOD_SFI,
                    "zone security object: CMS SignedData (Document Signer, ECDSA P-521/SHA-512) over "
                    "the SHA-512 hashes of this zone's data groups",
                    "DER, RFC 5652 + ICAO 9303-10 LDSSecurityObject", read, _UPD, contactless, 4096,
                    read_right, update_right)


_PUB = Access.SM
_ENC = Access.SM | Access.PIN1 | Access.TA

MASTER_FILES: tuple[FileSpec, ...] = (
    FileSpec(None, "EF.DIR", EF_DIR_FID, 0x1E, "application templates (61 {4F AID, 50 label}) of the zones",
             "BER-TLV, ISO/IEC 7816-4", Access.ALWAYS, Access.NEVER, True, 512),
    FileSpec(None, "EF.CardAccess", EF_CARD_ACCESS_FID, 0x1C, "SecurityInfos: PACEInfo",
             "DER, TR-03110-3 SecurityInfos", Access.ALWAYS, Access.NEVER, True, 512),
    FileSpec(None, "EF.CardSecurity", EF_CARD_SECURITY_FID, 0x1D,
             "SignedData over SecurityInfos (PACEInfo, ActiveAuthenticationInfo, ChipAuthentication*)",
             "DER, CMS SignedData, TR-03110-3", Access.SM, Access.NEVER, True, 4096),
)

ZONES: tuple[ZoneSpec, ...] = (
    ZoneSpec(Zone.HOUSEHOLD, 0x4E01, AID_PREFIX + b"H", "戶籍地區", True, (
        _dg(Zone.HOUSEHOLD, 1, "household region: county, township, village codes and names, neighbourhood",
            "BER-TLV (formats.zones)", Access.ALWAYS, _UPD, True, 512,
            update_right=NeidRight.UPDATE_HOUSEHOLD_REGION),
        _sod(Zone.HOUSEHOLD, Access.ALWAYS, NeidRight.UPDATE_HOUSEHOLD_REGION, True),
    )),
    ZoneSpec(Zone.PUBLIC, 0x4E02, AID_PREFIX + b"P", "公開區", True, (
        _dg(Zone.PUBLIC, 1, "name: Chinese, foreign (optional), romanised", "BER-TLV, UTF-8",
            _PUB, _RO, True, 256),
        _dg(Zone.PUBLIC, 2, "ID number", "BER-TLV, ASCII", _PUB, _RO, True, 32),
        _dg(Zone.PUBLIC, 3, "date of birth", "BER-TLV, YYYYMMDD", _PUB, _RO, True, 32),
        _dg(Zone.PUBLIC, 4, "full household address", "BER-TLV, UTF-8", _PUB, _UPD, True, 512,
            update_right=NeidRight.UPDATE_ADDRESS),
        _dg(Zone.PUBLIC, 5, "marital status", "BER-TLV, code", _PUB, _RO, True, 32),
        _dg(Zone.PUBLIC, 6, "military service status (役別)", "BER-TLV, code + UTF-8", _PUB, _UPD, True, 128,
            update_right=NeidRight.UPDATE_MILITARY_SERVICE),
        _dg(Zone.PUBLIC, 7, "card serial number", "BER-TLV, ASCII", _PUB, _RO, True, 32),
        _dg(Zone.PUBLIC, 8, "renewal date (empty: none, 65+)", "BER-TLV, YYYYMMDD", _PUB, _RO, True, 32),
        _dg(Zone.PUBLIC, 9, "date of issue", "BER-TLV, YYYYMMDD", _PUB, _RO, True, 32),
        _dg(Zone.PUBLIC, 10, "photo", "BER-TLV, JPEG", _PUB, _RO, True, 32768),
        _dg(Zone.PUBLIC, 15, "Active Authentication public key", "DER SubjectPublicKeyInfo (P-521)",
            _PUB, _RO, True, 512),
        _sod(Zone.PUBLIC, _PUB, NeidRight.UPDATE_ADDRESS | NeidRight.UPDATE_MILITARY_SERVICE, True),
    )),
    ZoneSpec(Zone.ENCRYPTED, 0x4E03, AID_PREFIX + b"E", "加密區", False, (
        _dg(Zone.ENCRYPTED, 1, "spouse's name", "BER-TLV, UTF-8", _ENC, _UPD, False, 256,
            NeidRight.READ_SPOUSE, NeidRight.UPDATE_SPOUSE),
        _dg(Zone.ENCRYPTED, 2, "father's name", "BER-TLV, UTF-8", _ENC, _UPD, False, 256,
            NeidRight.READ_FATHER, NeidRight.UPDATE_FATHER),
        _dg(Zone.ENCRYPTED, 3, "mother's name", "BER-TLV, UTF-8", _ENC, _UPD, False, 256,
            NeidRight.READ_MOTHER, NeidRight.UPDATE_MOTHER),
        _dg(Zone.ENCRYPTED, 4, "birthplace", "BER-TLV, code + UTF-8", _ENC, _UPD, False, 256,
            NeidRight.READ_BIRTHPLACE, NeidRight.UPDATE_BIRTHPLACE),
        _dg(Zone.ENCRYPTED, 5, "sex", "BER-TLV, code", _ENC, _RO, False, 16, NeidRight.READ_SEX),
        _dg(Zone.ENCRYPTED, 6, "CAN", "BER-TLV, ASCII digits", _ENC, _RO, False, 16, NeidRight.READ_CAN),
        _sod(Zone.ENCRYPTED, _ENC, NeidRight.UPDATE_SPOUSE | NeidRight.UPDATE_FATHER | NeidRight.UPDATE_MOTHER
             | NeidRight.UPDATE_BIRTHPLACE, False, READ_RIGHTS),
    )),
    ZoneSpec(Zone.CERTIFICATE, 0x4E04, AID_PREFIX + b"C", "自然人憑證區", False, tuple(
        FileSpec(Zone.CERTIFICATE, f"CERT{i}", 0x0200 | i, i, label, "DER X.509 certificate",
                 Access.SM, Access.NEVER, False, 2048)
        for i, label in ((1, "root CA certificate"), (2, "intermediate CA certificate"),
                         (3, "RSA-2048 signing certificate"), (4, "RSA-2048 encryption certificate"),
                         (5, "ECC P-521 signing certificate"), (6, "ECC P-521 key-agreement certificate"))
    )),
)


def zone_spec(zone: Zone) -> ZoneSpec:
    for spec in ZONES:
        if spec.zone is zone:
            return spec
    raise KeyError(zone)


def zone_by_aid(aid: bytes) -> ZoneSpec | None:
    for spec in ZONES:
        if spec.aid == aid:
            return spec
    return None
