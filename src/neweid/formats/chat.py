"""The New eID terminal type and its Certificate Holder Authorization Template (CHAT) bit map (PKI-5,
CARD-3, CARD-7, MGMT-11), defined once here and documented in docs/eac-profile.md.

A CHAT (TR-03110-3 C.1.5) is ``7F4C { 06 terminal-type OID, 53 discretionary data }``. For the New eID
terminal type the discretionary data is 5 bytes (40 bits, big-endian): the two most significant bits are
the role, the other bits are rights. The effective authorisation of a terminal is the bitwise AND of the
CHATs of its certificate, its DV certificate and the CVCA certificate (roles excluded).
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

# Placeholder arc under Taiwan's national arc 2.16.886 until MOI registers one: see docs/eac-profile.md.
NEID_ARC = "2.16.886.1.100.1"
ID_NEID_TERMINAL = f"{NEID_ARC}.1"  # terminal type: New eID terminals (agencies, offices, production)
CHAT_LENGTH = 5
ROLE_SHIFT = 38


class Role(IntEnum):
    """Certificate role: bits 39..38 of the discretionary data."""

    TERMINAL = 0b00
    DV_NON_OFFICIAL = 0b01  # DV of a non-government agency (foreign in ePassport terms)
    DV_OFFICIAL = 0b10  # DV run by a government agency (domestic): its certificates update the chip date
    CVCA = 0b11


class NeidRight(IntFlag):
    """Rights of a New eID terminal. One bit per encrypted-zone field read (the agency's authorisation),
    one bit per updatable field (CARD-7, for offices' chip updates), and PIN management."""

    NONE = 0
    READ_SPOUSE = 1 << 0  # encrypted DG1
    READ_FATHER = 1 << 1  # encrypted DG2
    READ_MOTHER = 1 << 2  # encrypted DG3
    READ_BIRTHPLACE = 1 << 3  # encrypted DG4
    READ_SEX = 1 << 4  # encrypted DG5
    READ_CAN = 1 << 5  # encrypted DG6
    UPDATE_HOUSEHOLD_REGION = 1 << 8  # household DG1
    UPDATE_ADDRESS = 1 << 9  # public DG4
    UPDATE_MILITARY_SERVICE = 1 << 10  # public DG6
    UPDATE_SPOUSE = 1 << 11  # encrypted DG1
    UPDATE_FATHER = 1 << 12  # encrypted DG2
    UPDATE_MOTHER = 1 << 13  # encrypted DG3
    UPDATE_BIRTHPLACE = 1 << 14  # encrypted DG4
    PIN_MANAGEMENT = 1 << 16  # office counter: unblock / reset PINs without the user code


ALL_RIGHTS = NeidRight(sum(r.value for r in NeidRight))
READ_RIGHTS = (NeidRight.READ_SPOUSE | NeidRight.READ_FATHER | NeidRight.READ_MOTHER
               | NeidRight.READ_BIRTHPLACE | NeidRight.READ_SEX | NeidRight.READ_CAN)
UPDATE_RIGHTS = (NeidRight.UPDATE_HOUSEHOLD_REGION | NeidRight.UPDATE_ADDRESS
                 | NeidRight.UPDATE_MILITARY_SERVICE | NeidRight.UPDATE_SPOUSE | NeidRight.UPDATE_FATHER
                 | NeidRight.UPDATE_MOTHER | NeidRight.UPDATE_BIRTHPLACE)

# CLI / docs names of the read rights (`--fields spouse,father,...`).
FIELD_RIGHTS: dict[str, NeidRight] = {
    "spouse": NeidRight.READ_SPOUSE,
    "father": NeidRight.READ_FATHER,
    "mother": NeidRight.READ_MOTHER,
    "birthplace": NeidRight.READ_BIRTHPLACE,
    "sex": NeidRight.READ_SEX,
    "can": NeidRight.READ_CAN,
}


def encode_discretionary(role: Role, rights: NeidRight) -> bytes:
    """The 5-byte discretionary data of a CHAT."""
    if int(rights) >> ROLE_SHIFT:
        raise ValueError("rights overlap the role bits")
    return ((int(role) << ROLE_SHIFT) | int(rights)).to_bytes(CHAT_LENGTH, "big")


def decode_discretionary(data: bytes) -> tuple[Role, NeidRight]:
    """Role and rights from the discretionary data (unknown right bits are kept, never widened)."""
    if len(data) != CHAT_LENGTH:
        raise ValueError(f"New eID CHAT discretionary data has {CHAT_LENGTH} bytes, not {len(data)}")
    value = int.from_bytes(data, "big")
    return Role(value >> ROLE_SHIFT), NeidRight(value & ((1 << ROLE_SHIFT) - 1) & int(ALL_RIGHTS))


def effective_rights(*chain: NeidRight) -> NeidRight:
    """The bitwise AND of the rights along a certificate chain (TR-03110-3 C.4)."""
    result = ALL_RIGHTS
    for rights in chain:
        result &= rights
    return result


def rights_from_fields(names: str) -> NeidRight:
    """``"spouse,father"`` → READ_SPOUSE | READ_FATHER; unknown names raise ValueError naming them."""
    rights = NeidRight.NONE
    unknown = []
    for name in (n.strip().lower() for n in names.split(",") if n.strip()):
        if name in FIELD_RIGHTS:
            rights |= FIELD_RIGHTS[name]
        else:
            unknown.append(name)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; choose from {', '.join(FIELD_RIGHTS)}")
    return rights
