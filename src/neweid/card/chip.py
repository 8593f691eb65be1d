"""The public face of the virtual New eID chip: :class:`VirtualCard`.

A card is created blank (personalisation state) or loaded from its image, powered on over the contact
or contactless interface, and driven only by APDU bytes through :meth:`VirtualCard.transmit`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from neweid.card.atr import ATR
from neweid.card.dispatcher import process, status_bytes
from neweid.card.errors import CardImageError, CardSetupError
from neweid.card.filesystem import FileSystem, file_key
from neweid.card.image import load_state, save_image, state_from_content
from neweid.card.state import CardContext, LifeCycle, PersistentState, SessionState
from neweid.formats.filemap import Interface
from neweid.formats.iso7816 import StatusWord

_log = logging.getLogger(__name__)

UID_RANDOM_PREFIX = 0x08  # ISO/IEC 14443-3: a 4-byte UID starting with 08 is a random ID
UID_SIZES = (4, 7, 10)
# What transmit() answers while the card is powered off (no real equivalent: a reader would report
# "card unpowered"); chosen as "conditions of use not satisfied".
POWERED_OFF_SW = StatusWord.CONDITIONS_NOT_SATISFIED

_FS = FileSystem()


class _ImageStore:
    """Commits the persistent state to the image file (or only to memory when there is no path)."""

    def __init__(self, path: Path | None, committed: dict[str, object]) -> None:
        self.path = path
        self.committed = committed

    def commit(self, ctx: CardContext) -> bool:
        content = ctx.persistent.to_json()
        if self.path is not None:
            try:
                save_image(self.path, content)
            except CardImageError:
                _log.exception("saving the card image failed; state rolled back")
                self.rollback(ctx)
                return False
        self.committed = content
        return True

    def rollback(self, ctx: CardContext) -> None:
        ctx.persistent = state_from_content(self.committed)


def _check_files(state: PersistentState, where: str) -> None:
    known = {file_key(df, ef): ef.max_size for df, ef in _FS.all_files()}
    for key, content in state.files.items():
        if key not in known or len(content) > known[key]:
            raise CardImageError(f"{where} holds an unknown or oversized file {key}")


class VirtualCard:
    """A virtual New eID chip with its persistent image."""

    def __init__(self, state: PersistentState, path: Path | None, rng: Callable[[int], bytes]) -> None:
        self._path = path
        self._rng = rng
        self._store = _ImageStore(path, state.to_json())
        self._ctx: CardContext | None = None
        self._state = state
        self._last_interface = Interface.CONTACT

    @classmethod
    def create(cls, path: Path | None, *, rng: Callable[[int], bytes] = os.urandom,
               chip_serial: bytes | None = None) -> VirtualCard:
        """A blank card in the personalisation state, saved to ``path`` (None: memory only).

        ``chip_serial`` (4, 7 or 10 bytes, random by default) is the production UID (CARD-8). An
        existing image is never overwritten (:class:`CardImageError`)."""
        serial = rng(7) if chip_serial is None else bytes(chip_serial)
        if len(serial) not in UID_SIZES:
            raise CardSetupError("the chip serial has 4, 7 or 10 bytes")
        state = PersistentState(chip_serial=serial)
        if path is not None:
            path = Path(path)
            if path.exists():
                raise CardImageError(f"card image {path} exists already")
            save_image(path, state.to_json())
        return cls(state, path, rng)

    @classmethod
    def load(cls, path: Path, *, rng: Callable[[int], bytes] = os.urandom) -> VirtualCard:
        """The card saved at ``path``; raises :class:`CardImageError` if it is missing or damaged."""
        path = Path(path)
        state = load_state(path)
        _check_files(state, f"card image {path}")
        return cls(state, path, rng)

    # --- properties ----------------------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        return ATR

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def powered(self) -> bool:
        return self._ctx is not None

    @property
    def interface(self) -> Interface | None:
        return None if self._ctx is None else self._ctx.session.interface

    @property
    def uid(self) -> bytes | None:
        return None if self._ctx is None else self._ctx.session.uid

    @property
    def lifecycle(self) -> LifeCycle:
        return self._persistent.lifecycle

    @property
    def _persistent(self) -> PersistentState:
        return self._state if self._ctx is None else self._ctx.persistent

    # --- power ---------------------------------------------------------------------------------

    def _new_uid(self) -> bytes:
        if self._persistent.lifecycle is LifeCycle.PERSONALISATION:
            return self._persistent.chip_serial  # the production UID, used only before activation
        return bytes([UID_RANDOM_PREFIX]) + self._rng(3)

    def _start_session(self, interface: Interface, uid: bytes) -> bytes:
        state = self._persistent
        session = SessionState(interface=interface, uid=uid, current_df=_FS.mf)
        self._ctx = CardContext(_FS, state, session, self._rng)
        self._last_interface = session.interface
        return ATR

    def power_on(self, interface: Interface = Interface.CONTACT) -> bytes:
        """Cold start on ``interface`` (a new session and, once operational, a new random UID)."""
        try:
            interface = Interface(interface)
        except ValueError:
            raise CardSetupError(f"unknown interface {interface!r}") from None
        self.power_off()
        return self._start_session(interface, self._new_uid())

    def power_off(self) -> None:
        """End the session: SM keys, PACE progress and verified PINs are lost."""
        if self._ctx is not None:
            self._state = self._ctx.persistent
            self._ctx = None

    def reset(self) -> bytes:
        """Warm reset: a new session on the same interface with the same UID (cold start if off)."""
        if self._ctx is None:
            return self.power_on(self._last_interface)
        session = self._ctx.session
        self.power_off()
        return self._start_session(session.interface, session.uid)

    def transmit(self, apdu: bytes) -> bytes:
        """Response data ‖ SW for one command APDU; never raises, whatever the bytes."""
        ctx = self._ctx
        if ctx is None:
            return status_bytes(POWERED_OFF_SW)
        try:
            return process(ctx, bytes(apdu), self._store)
        except Exception:
            _log.exception("internal error outside the handlers")
            return status_bytes(StatusWord.UNKNOWN_ERROR)
