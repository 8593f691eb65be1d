"""The host side's one error hierarchy: every failure a programmer using :mod:`neweid.terminal` can act
on is a :class:`ReaderError`; builtin exceptions do not escape the public entry points.

::

    ReaderError
    ├── TransportError          the reader, the connection or pyscard
    ├── InvalidInputError            a malformed argument (CAN, MRZ key seed, APDU field), also a ValueError
    ├── WrongAccessCode         PACE failed: wrong CAN or MRZ
    ├── SecureChannelError      PACE or secure messaging broke down (tampering, bad MAC, card reset)
    ├── CardNotGenuine          Active or Chip Authentication failed (a cloned or foreign chip)
    ├── DataTampered            Passive Authentication failed (reason from neweid.crypto.passive)
    └── CardStatusError(sw)     any other status word
        ├── AccessDenied        6982: the session lacks PACE, a PIN or Terminal Authentication
        ├── InterfaceNotAllowed 6985 on the contactless interface (encrypted/certificate zone, PINs)
        ├── PinIncorrect        63Cx: wrong PIN, x tries left
        ├── PinBlocked          6983 (or 63C0: the try that blocked it)
        ├── PinNotSet           6984
        ├── UserCodeNotChanged  6985: the user code is still the default one of the pickup letter
        ├── TerminalNotAuthorised  Terminal Authentication refused (6300 / 6982 / 6A88), with a reason
        └── ZoneClosed          6A82 on SELECT of the certificate zone: the citizen opted out (MGMT-5)
"""

from __future__ import annotations

from neweid.formats.iso7816 import PinRef, StatusWord, describe_sw

__all__ = [
    "AccessDenied",
    "CardNotGenuine",
    "CardStatusError",
    "DataTampered",
    "InterfaceNotAllowed",
    "InvalidInputError",
    "PinBlocked",
    "PinIncorrect",
    "PinNotSet",
    "ReaderError",
    "SecureChannelError",
    "TerminalNotAuthorised",
    "TransportError",
    "UserCodeNotChanged",
    "WrongAccessCode",
    "ZoneClosed",
]

_PIN_NAMES = {PinRef.PIN1: "PIN1", PinRef.PIN2: "PIN2", PinRef.USER_CODE: "the user code"}


def pin_name(ref: PinRef) -> str:
    """A human name for a PIN reference, for messages."""
    return _PIN_NAMES[ref]


class ReaderError(Exception):
    """Base class of every error raised by :mod:`neweid.terminal`."""


class TransportError(ReaderError):
    """The reader or the connection to the card failed (no reader, card removed, pyscard missing)."""


class InvalidInputError(ReaderError, ValueError):
    """An argument is malformed (detected on the host, before anything is sent to the card)."""


class WrongAccessCode(ReaderError):  # noqa: N818 - names fixed by the API
    """PACE failed because the card rejected the terminal's token: wrong CAN or MRZ."""

    def __init__(self, message: str = "wrong CAN or MRZ") -> None:
        super().__init__(message)


class SecureChannelError(ReaderError):
    """PACE or secure messaging failed for another reason than a wrong access code: a bad MAC, a
    response that does not decrypt, an invalid point, or the card ending the session (6987/6988). The
    secure channel is closed; open it again with PACE."""


class CardNotGenuine(ReaderError):  # noqa: N818 - names fixed by the API
    """Active Authentication or Chip Authentication failed: the chip could not prove it holds the
    private key of DG15 / of EF.CardSecurity's ChipAuthenticationPublicKeyInfo (a cloned chip)."""


class DataTampered(ReaderError):  # noqa: N818 - names fixed by the API
    """Passive Authentication failed: the zone's data do not carry a valid Document Signer signature.

    ``reason`` is the reason code of :class:`neweid.crypto.passive.PassiveAuthenticationError` (as its
    name, e.g. ``"HASH_MISMATCH"``); ``dg`` names the data group concerned when there is one."""

    def __init__(self, dg: int | None, reason: str, detail: str = "") -> None:
        where = f"DG{dg}: " if dg is not None else ""
        message = f"Passive Authentication failed ({reason}): {where}{detail or 'data do not verify'}"
        super().__init__(message)
        self.dg = dg
        self.reason = reason


class CardStatusError(ReaderError):
    """The card answered a status word other than success."""

    def __init__(self, sw: int, message: str | None = None) -> None:
        super().__init__(message or f"card answered {sw:04X} ({describe_sw(sw)})")
        self.sw = sw


class AccessDenied(CardStatusError):  # noqa: N818 - names fixed by the API
    """6982: the session has not established what the file or command needs (PACE, PIN1/PIN2,
    Terminal Authentication)."""

    def __init__(self, sw: int = StatusWord.SECURITY_STATUS_NOT_SATISFIED, what: str = "") -> None:
        target = f" to {what}" if what else ""
        super().__init__(sw, f"access denied{target}: security status not satisfied ({sw:04X})")


class InterfaceNotAllowed(CardStatusError):  # noqa: N818 - names fixed by the API
    """6985 on the contactless interface: the encrypted zone, the certificate zone and the PIN commands
    need the contact interface."""

    def __init__(self, sw: int = StatusWord.CONDITIONS_NOT_SATISFIED, what: str = "") -> None:
        target = f"{what} " if what else ""
        super().__init__(sw, f"{target}not allowed over the contactless interface: use the contact "
                             f"interface ({sw:04X})")


class PinIncorrect(CardStatusError):  # noqa: N818 - names fixed by the API
    """63Cx: the PIN was wrong; ``tries_left`` tries remain before it blocks."""

    def __init__(self, ref: PinRef, tries_left: int) -> None:
        super().__init__(0x63C0 | tries_left,
                         f"wrong {pin_name(ref)}: {tries_left} tries left")
        self.ref = ref
        self.tries_left = tries_left


class PinBlocked(CardStatusError):  # noqa: N818 - names fixed by the API
    """6983 (or 63C0): the PIN is blocked; unblock it with the user code (:meth:`unblock_pin`)."""

    def __init__(self, ref: PinRef, sw: int = StatusWord.AUTHENTICATION_METHOD_BLOCKED) -> None:
        hint = "" if ref is PinRef.USER_CODE else ": unblock it with the user code"
        super().__init__(sw, f"{pin_name(ref)} is blocked{hint}")
        self.ref = ref


class PinNotSet(CardStatusError):  # noqa: N818 - names fixed by the API
    """6984: the PIN has not been set yet; set it with the user code (:meth:`unblock_pin`)."""

    def __init__(self, ref: PinRef) -> None:
        super().__init__(StatusWord.REFERENCE_DATA_NOT_USABLE,
                         f"{pin_name(ref)} is not set yet: set it with the user code")
        self.ref = ref


class UserCodeNotChanged(CardStatusError):  # noqa: N818 - names fixed by the API
    """6985: the user code is still the default printed on the pickup confirmation; it must be changed
    (:meth:`change_user_code`) before it can set or unblock a PIN."""

    def __init__(self) -> None:
        super().__init__(StatusWord.CONDITIONS_NOT_SATISFIED,
                         "the user code is still the default one: change it before using it")


class TerminalNotAuthorised(CardStatusError):  # noqa: N818 - names fixed by the API
    """Terminal Authentication was refused: ``reason`` says which step and why (the card answered
    ``6300`` to a bad signature, ``6982`` to a certificate that is expired or not allowed by its
    issuer's role, ``6A88`` to an unknown CAR or terminal certificate)."""

    def __init__(self, sw: int, reason: str) -> None:
        super().__init__(sw, f"terminal not authorised: {reason} ({sw:04X}, {describe_sw(sw)})")
        self.reason = reason


class ZoneClosed(CardStatusError):  # noqa: N818 - names fixed by the API
    """6A82 when selecting a zone that personalisation left closed (the certificate zone of a citizen
    who opted out of the citizen certificate, MGMT-5)."""

    def __init__(self, zone: str) -> None:
        super().__init__(StatusWord.FILE_NOT_FOUND, f"the {zone} zone is closed on this card")
        self.zone = zone
