"""The error hierarchy of the citizen-certificate CA (:mod:`neweid.pki.ca`).

Every public entry point of the package raises a :class:`CaError` (a :class:`~neweid.pki.errors.PkiError`,
so a ``ValueError``) for bad input or a refused request; each refusal carries a machine-readable ``code``
so that the management system can show the reason. Messages never contain an ID number, a name or key
material: at most a certificate serial number.
"""

from __future__ import annotations

from enum import StrEnum

from neweid.pki.errors import PkiError

__all__ = [
    "CaDirectoryError",
    "CaError",
    "CsrError",
    "LifecycleError",
    "Refusal",
    "RegistryError",
    "UnknownCertificateError",
    "ValidityError",
]


class Refusal(StrEnum):
    """Why a request was refused (the ``code`` of a :class:`CaError`)."""

    BAD_CSR = "bad-csr"
    BAD_CSR_SIGNATURE = "bad-csr-signature"
    WRONG_KEY_TYPE = "wrong-key-type"
    WRONG_KEY_SIZE = "wrong-key-size"
    BAD_SUBJECT = "bad-subject"
    PAST_RENEWAL_DATE = "past-renewal-date"
    PAST_FIVE_YEARS = "past-five-years"
    BEFORE_CARD_ISSUE = "before-card-issue"
    CARD_EXPIRED = "card-expired"
    REISSUE_LIMIT = "reissue-limit"
    NEW_CARD_NEEDED = "new-card-needed"
    NOT_GOOD = "not-good"
    REVOKED = "revoked"
    NOT_SUSPENDED = "not-suspended"
    BAD_REASON = "bad-reason"
    NOT_YOURS = "not-yours"
    NOT_AUTHENTICATED = "not-authenticated"
    UNKNOWN_CERTIFICATE = "unknown-certificate"
    DUPLICATE = "duplicate"
    BAD_CONTACT = "bad-contact"
    BAD_DIRECTORY = "bad-directory"
    NO_BASE_CRL = "no-base-crl"
    STORAGE = "storage"


class CaError(PkiError):
    """Base class: a CA request was refused or could not be carried out; ``code`` says why."""

    code: Refusal = Refusal.BAD_CSR

    def __init__(self, message: str, code: Refusal | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class CsrError(CaError):
    """A certificate signing request is malformed, badly signed or has the wrong kind of key."""

    code = Refusal.BAD_CSR


class ValidityError(CaError):
    """The requested validity breaks CARD-10 (5 years from the card issue, one reissue, renewal date)."""

    code = Refusal.PAST_RENEWAL_DATE


class LifecycleError(CaError):
    """A lifecycle action does not apply to the certificate's state (e.g. resume a revoked certificate)."""

    code = Refusal.NOT_GOOD


class UnknownCertificateError(CaError):
    """No certificate with that serial number was issued by this CA (or it is not the caller's)."""

    code = Refusal.UNKNOWN_CERTIFICATE


class RegistryError(CaError):
    """The issued-certificate database could not be read or written."""

    code = Refusal.STORAGE


class CaDirectoryError(CaError):
    """A CA directory is missing, damaged or was created with another passphrase."""

    code = Refusal.BAD_DIRECTORY
