"""The error hierarchy of :mod:`neweid.pki`: every public entry point raises a :class:`PkiError` for bad
input or an unusable key; builtin exceptions do not escape. Messages never contain key material or
passphrases."""

from __future__ import annotations


class PkiError(ValueError):
    """Base class of the PKI errors."""


class KeyStoreError(PkiError):
    """A key could not be created, found, unlocked or used."""


class CertificateError(PkiError):
    """A certificate could not be issued or loaded (bad profile input, damaged file)."""


class SigningError(PkiError):
    """A security object could not be signed (bad data groups, unusable Document Signer)."""


class TestPkiError(PkiError):
    """A test-PKI directory is damaged or was created with another passphrase."""

    __test__ = False  # not a pytest test class
