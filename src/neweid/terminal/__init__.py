"""The host side of the New eID (N_eID-API): transports, sessions (PACE, secure messaging), and the
:class:`NewEidReader` API. Never imports :mod:`neweid.card`: host and chip meet only through APDUs."""

from neweid.terminal.errors import (
    AccessDenied,
    CardNotGenuine,
    CardStatusError,
    DataTampered,
    InterfaceNotAllowed,
    InvalidInputError,
    PinBlocked,
    PinIncorrect,
    PinNotSet,
    ReaderError,
    SecureChannelError,
    TransportError,
    UserCodeNotChanged,
    WrongAccessCode,
)
from neweid.terminal.transport import InProcessTransport, Transport

__all__ = [
    "AccessDenied",
    "CardNotGenuine",
    "CardStatusError",
    "DataTampered",
    "InProcessTransport",
    "InterfaceNotAllowed",
    "InvalidInputError",
    "PinBlocked",
    "PinIncorrect",
    "PinNotSet",
    "ReaderError",
    "SecureChannelError",
    "Transport",
    "TransportError",
    "UserCodeNotChanged",
    "WrongAccessCode",
]
