"""Pickup notices to citizens (領證通知): e-mail, SMS or letter, through a narrow interface.

:class:`SimulatedNotifier` keeps what it was asked to send in ``outbox`` (a real one would hand e-mail and
SMS to their gateways and queue letters for printing).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True, repr=False)
class PickupNotice:
    card_id: int
    serial: str
    office_code: str
    channel: str  # NotificationChannel value
    destination: str  # e-mail address or phone number; "" for a letter (the address comes from the register)

    def __repr__(self) -> str:
        return f"PickupNotice({self.serial}, {self.channel})"


class Notifier(Protocol):
    def send(self, notices: Sequence[PickupNotice]) -> None:
        ...


@dataclass
class SimulatedNotifier:
    outbox: list[PickupNotice] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, notices: Sequence[PickupNotice]) -> None:
        with self._lock:
            self.outbox.extend(notices)


_simulated = SimulatedNotifier()


def get_notifier() -> Notifier:
    """The configured notifier (``NEWEID_NOTIFIER``: dotted path to a factory), else the simulated one."""
    factory_path = getattr(settings, "NEWEID_NOTIFIER", "")
    if factory_path:
        return cast(Callable[[], Notifier], import_string(factory_path))()
    return _simulated
