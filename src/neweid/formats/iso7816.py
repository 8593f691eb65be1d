"""ISO/IEC 7816-4 vocabulary shared by the card and the host: instruction codes, status words and
the reference numbers of the New eID profile (docs/protocol-profile.md)."""

from __future__ import annotations

from enum import IntEnum


class Ins(IntEnum):
    """Instruction bytes used by the New eID profile."""

    ERASE_BINARY = 0x0E
    VERIFY = 0x20
    MANAGE_SECURITY_ENVIRONMENT = 0x22
    CHANGE_REFERENCE_DATA = 0x24
    PERFORM_SECURITY_OPERATION = 0x2A
    RESET_RETRY_COUNTER = 0x2C
    ACTIVATE = 0x44
    GENERATE_ASYMMETRIC_KEY_PAIR = 0x46
    EXTERNAL_AUTHENTICATE = 0x82
    GET_CHALLENGE = 0x84
    GENERAL_AUTHENTICATE = 0x86
    INTERNAL_AUTHENTICATE = 0x88
    SELECT = 0xA4
    READ_BINARY = 0xB0
    GET_RESPONSE = 0xC0
    GET_DATA = 0xCA
    UPDATE_BINARY = 0xD6
    PUT_DATA = 0xDA


class StatusWord(IntEnum):
    """Status words (SW1SW2) the card answers with. ``63Cx`` (x tries left) is built with
    :func:`retries_left`."""

    SUCCESS = 0x9000
    WARNING_END_OF_FILE = 0x6282
    AUTHENTICATION_FAILED = 0x6300
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    LAST_COMMAND_EXPECTED = 0x6883
    COMMAND_CHAINING_NOT_SUPPORTED = 0x6884
    COMMAND_INCOMPATIBLE_WITH_FILE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTHENTICATION_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_EF = 0x6986
    SM_DATA_OBJECTS_MISSING = 0x6987
    SM_DATA_OBJECTS_INCORRECT = 0x6988
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    NOT_ENOUGH_MEMORY = 0x6A84
    INCORRECT_P1P2 = 0x6A86
    LC_INCONSISTENT_WITH_P1P2 = 0x6A87
    REFERENCE_DATA_NOT_FOUND = 0x6A88
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    UNKNOWN_ERROR = 0x6F00


def retries_left(count: int) -> int:
    """SW ``63Cx``: verification failed, ``count`` tries left (0..15)."""
    if not 0 <= count <= 0x0F:
        raise ValueError("retry count out of range")
    return 0x63C0 | count


def describe_sw(sw: int) -> str:
    """A short English description of a status word, for error messages."""
    if sw & 0xFFF0 == 0x63C0:
        return f"verification failed, {sw & 0x0F} tries left"
    if sw >> 8 == 0x61:
        return f"{sw & 0xFF} more bytes available"
    if sw >> 8 == 0x6C:
        return f"wrong Le, exact length {sw & 0xFF}"
    try:
        return StatusWord(sw).name.lower().replace("_", " ")
    except ValueError:
        return f"status {sw:04X}"


class PasswordRef(IntEnum):
    """PACE password references (TR-03110-3, MSE:Set AT tag 83)."""

    MRZ = 0x01
    CAN = 0x02


class PinRef(IntEnum):
    """Reference data for VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER (P2)."""

    PIN1 = 0x81
    PIN2 = 0x82
    USER_CODE = 0x83


class KeyRef(IntEnum):
    """On-card private keys (GENERATE ASYMMETRIC KEY PAIR P2, MSE key references)."""

    ACTIVE_AUTHENTICATION = 0x01
    CHIP_AUTHENTICATION = 0x02
    RSA_SIGN = 0x10  # certificate zone (CARD-6)
    RSA_ENCRYPT = 0x11
    EC_SIGN = 0x12
    EC_KEY_AGREEMENT = 0x13


class PutDataTag(IntEnum):
    """PUT DATA P1P2 tags, personalisation phase only (docs/protocol-profile.md)."""

    CAN = 0x0101
    MRZ_KEY_SEED = 0x0102  # document number + cd + date of birth + cd + expiry + cd (ASCII)
    PIN1 = 0x0111
    PIN2 = 0x0112
    USER_CODE = 0x0113  # set in the default (transport) state: must be changed before use
    CARD_DATE = 0x0120  # YYYYMMDD, the chip's notion of today (TR-03110 current date)
    CVCA_TRUST_POINT = 0x0130  # a CVCA certificate (docs/eac-profile.md)
