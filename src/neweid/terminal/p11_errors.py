"""Errors of the PKCS#11-style citizen-certificate library (:mod:`neweid.terminal.p11`, API-3, API-4).

Each error carries the PKCS#11 return value (``CKR_*``, PKCS#11 v2.40 §11.1) that a C binding of the
library would return, so that the table 11 functions keep their meaning::

    P11Error(code)                    every failure of the library (a ReaderError)
    ├── NotNewEidError                CKR_TOKEN_NOT_RECOGNIZED: the token is not a New eID card
    ├── TokenNotPresentError          CKR_TOKEN_NOT_PRESENT: no card in the slot / it does not answer
    ├── SignatureInvalidError         CKR_SIGNATURE_INVALID: BasicVerify, VerifyCert, VerifyCRLsignature
    ├── CertificateParseError         CKR_DATA_INVALID: DER2Cert / P7B2Cert / DER2CRL got no certificate
    └── OcspError                     CKR_FUNCTION_FAILED: the OCSP exchange failed (network, response)
"""

from __future__ import annotations

from enum import IntEnum

from neweid.terminal.errors import ReaderError

__all__ = [
    "CertificateParseError",
    "Ckr",
    "NotNewEidError",
    "OcspError",
    "P11Error",
    "SignatureInvalidError",
    "TokenNotPresentError",
]


class Ckr(IntEnum):
    """PKCS#11 return values used by the library (values of PKCS#11 v2.40)."""

    OK = 0x000
    SLOT_ID_INVALID = 0x003
    GENERAL_ERROR = 0x005
    FUNCTION_FAILED = 0x006
    ARGUMENTS_BAD = 0x007
    DATA_INVALID = 0x020
    DEVICE_ERROR = 0x030
    ENCRYPTED_DATA_INVALID = 0x040
    FUNCTION_NOT_SUPPORTED = 0x054
    KEY_HANDLE_INVALID = 0x060
    KEY_FUNCTION_NOT_PERMITTED = 0x068
    OBJECT_HANDLE_INVALID = 0x082
    PIN_INCORRECT = 0x0A0
    PIN_INVALID = 0x0A1
    PIN_LOCKED = 0x0A4
    SIGNATURE_INVALID = 0x0C0
    TOKEN_NOT_PRESENT = 0x0E0
    TOKEN_NOT_RECOGNIZED = 0x0E1
    USER_NOT_LOGGED_IN = 0x101
    USER_PIN_NOT_INITIALIZED = 0x102
    CRYPTOKI_NOT_INITIALIZED = 0x190


class P11Error(ReaderError):
    """A failure of the citizen-certificate library; ``code`` is the PKCS#11 return value."""

    def __init__(self, code: Ckr, message: str) -> None:
        super().__init__(f"{message} (CKR_{code.name})")
        self.code = code


class NotNewEidError(P11Error):
    """The token in the slot is not a New eID card (its EF.DIR lists none of the New eID AIDs): an old
    MOICA card or another smart card (API-4)."""

    def __init__(self, detail: str = "") -> None:
        suffix = f": {detail}" if detail else ""
        super().__init__(Ckr.TOKEN_NOT_RECOGNIZED, f"not a New eID card{suffix}")


class TokenNotPresentError(P11Error):
    def __init__(self, detail: str = "no card in the slot") -> None:
        super().__init__(Ckr.TOKEN_NOT_PRESENT, detail)


class SignatureInvalidError(P11Error):
    def __init__(self, what: str = "the signature") -> None:
        super().__init__(Ckr.SIGNATURE_INVALID, f"{what} does not verify")


class CertificateParseError(P11Error, ValueError):
    def __init__(self, what: str, detail: str) -> None:
        super().__init__(Ckr.DATA_INVALID, f"cannot parse the {what}: {detail}")


class OcspError(P11Error):
    def __init__(self, detail: str) -> None:
        super().__init__(Ckr.FUNCTION_FAILED, f"OCSP check failed: {detail}")
