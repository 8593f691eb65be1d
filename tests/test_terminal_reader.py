"""NewEidReader against a scripted chip: the commands it sends for PINs and AA, and how status words
and Passive Authentication failures become errors a programmer can act on."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from neweid.crypto.aa import sign_challenge
from neweid.crypto.passive import BadSignatureError, HashMismatchError
from neweid.formats.filemap import Interface, Zone
from neweid.formats.iso7816 import PinRef
from neweid.formats.tlv import encode_tlv
from neweid.formats.zones import AaPublicKey
from neweid.terminal import reader as reader_module
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
    UserCodeNotChanged,
)
from neweid.terminal.reader import NewEidReader, PinState
from tests.test_terminal_fakes import MiniChip, ScriptedTransport

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
AA_KEY = ec.derive_private_key(0x1234567890ABCDEF, ec.SECP521R1())
AA_SPKI = AA_KEY.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
DG1 = encode_tlv(0x61, b"\x80\x02ab")
SOD = encode_tlv(0x30, b"not really a SignedData")


class Calls:
    def __init__(self) -> None:
        self.zones: list[tuple[bytes, dict[int, bytes]]] = []


@pytest.fixture
def pa_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Replace Passive Authentication by a recorder (the real one is exercised end to end)."""
    calls = Calls()

    def fake_verify_zone(sod: bytes, groups: dict[int, bytes], anchors: object, *, at: dt.datetime) -> None:
        assert at == NOW
        calls.zones.append((sod, groups))

    monkeypatch.setattr(reader_module, "verify_zone", fake_verify_zone)
    yield calls


def _open(chip: MiniChip, interface: Interface = Interface.CONTACT, pace: bool = True) -> NewEidReader:
    reader = NewEidReader(ScriptedTransport(responder=chip, interface=interface), [], now=lambda: NOW,
                          rng=random.Random(1).randbytes)
    if pace:
        reader.open_with_can("123456")
    return reader


def _answer(sw: int, data: bytes = b"") -> object:
    return lambda p1, p2, body: (data, sw)


@pytest.mark.parametrize(("sw", "error", "check"), [
    (0x63C2, PinIncorrect, lambda e: e.tries_left == 2 and e.ref is PinRef.PIN1),
    (0x63C0, PinBlocked, lambda e: e.ref is PinRef.PIN1 and e.sw == 0x63C0),
    (0x6983, PinBlocked, lambda e: "user code" in str(e)),
    (0x6984, PinNotSet, lambda e: e.ref is PinRef.PIN1),
    (0x6A80, InvalidInputError, lambda e: "no try was used" in str(e)),
    (0x6982, AccessDenied, lambda e: e.sw == 0x6982),
    (0x6985, CardStatusError, lambda e: not isinstance(e, InterfaceNotAllowed)),  # contact: not interface
    (0x6F00, CardStatusError, lambda e: e.sw == 0x6F00),
])
def test_verify_pin_status_words(sw: int, error: type[ReaderError], check: object) -> None:
    chip = MiniChip()
    chip.hooks[0x20] = _answer(sw)  # type: ignore[assignment]
    reader = _open(chip)
    with pytest.raises(error) as info:
        reader.verify_pin(PinRef.PIN1, "135790")
    assert check(info.value)  # type: ignore[operator]
    assert chip.log[-1] == (0x00, 0x20, 0x00, 0x81, b"135790", None)  # plain view inside SM


def test_pin_on_contactless_is_interface_not_allowed() -> None:
    chip = MiniChip()
    chip.hooks[0x20] = _answer(0x6985)  # type: ignore[assignment]
    with pytest.raises(InterfaceNotAllowed, match="contact interface"):
        _open(chip, Interface.CONTACTLESS).verify_pin(PinRef.PIN2, "12345678")


@pytest.mark.parametrize(("sw", "state", "tries"), [
    (0x9000, PinState.VERIFIED, None),
    (0x63C3, PinState.NOT_VERIFIED, 3),
    (0x63C0, PinState.BLOCKED, 0),
    (0x6983, PinState.BLOCKED, 0),
    (0x6984, PinState.NOT_SET, None),
])
def test_pin_status(sw: int, state: PinState, tries: int | None) -> None:
    chip = MiniChip()
    chip.hooks[0x20] = _answer(sw)  # type: ignore[assignment]
    status = _open(chip).pin_status(PinRef.USER_CODE)
    assert (status.ref, status.state, status.tries_left) == (PinRef.USER_CODE, state, tries)
    assert chip.log[-1] == (0x00, 0x20, 0x00, 0x83, b"", None)  # VERIFY without data: no try used


def test_pin_status_other_error() -> None:
    chip = MiniChip()
    chip.hooks[0x20] = _answer(0x6982)  # type: ignore[assignment]
    with pytest.raises(AccessDenied):
        _open(chip).pin_status(PinRef.PIN1)


def test_change_pin_and_unblock_commands() -> None:
    chip = MiniChip()
    for ins in (0x20, 0x24, 0x2C):
        chip.hooks[ins] = _answer(0x9000)  # type: ignore[assignment]
    reader = _open(chip)
    reader.change_pin(PinRef.PIN1, "135790", "246802")
    reader.change_user_code("Abc2026", "NewCode42")
    reader.unblock_pin(PinRef.PIN2, "NewCode42")
    reader.unblock_pin(PinRef.PIN1, "NewCode42", "975310")
    assert chip.log[-8:] == [
        (0x00, 0x20, 0x00, 0x81, b"135790", None), (0x00, 0x24, 0x01, 0x81, b"246802", None),
        (0x00, 0x20, 0x00, 0x83, b"Abc2026", None), (0x00, 0x24, 0x01, 0x83, b"NewCode42", None),
        (0x00, 0x20, 0x00, 0x83, b"NewCode42", None), (0x00, 0x2C, 0x03, 0x82, b"", None),
        (0x00, 0x20, 0x00, 0x83, b"NewCode42", None), (0x00, 0x2C, 0x02, 0x81, b"975310", None),
    ]


def test_unblock_with_default_user_code() -> None:
    chip = MiniChip()
    chip.hooks[0x20] = _answer(0x9000)  # type: ignore[assignment]
    chip.hooks[0x2C] = _answer(0x6985)  # type: ignore[assignment]
    with pytest.raises(UserCodeNotChanged, match="change it"):
        _open(chip).unblock_pin(PinRef.PIN1, "Abc2026", "111111")


def test_change_pin_stops_at_a_wrong_old_pin() -> None:
    chip = MiniChip()
    chip.hooks[0x20] = _answer(0x63C1)  # type: ignore[assignment]
    chip.hooks[0x24] = _answer(0x9000)  # type: ignore[assignment]
    with pytest.raises(PinIncorrect):
        _open(chip).change_pin(PinRef.PIN1, "000000", "246802")
    assert all(entry[1] != 0x24 for entry in chip.log)


@pytest.mark.parametrize("value", ["", "１２３４５６", "12\n456"])
def test_malformed_pin_arguments_send_nothing(value: str) -> None:
    chip = MiniChip()
    reader = _open(chip)
    before = len(chip.log)
    with pytest.raises(InvalidInputError):
        reader.verify_pin(PinRef.PIN1, value)
    with pytest.raises(InvalidInputError):
        reader.unblock_pin(PinRef.PIN1, "Abc2026", value or "\x00")
    assert len(chip.log) == before


# -- zones and Passive Authentication ---------------------------------------------------------------
def test_read_zone_skips_missing_files_and_verifies(pa_calls: Calls) -> None:
    chip = MiniChip(files={0x01: DG1, 0x1D: SOD})
    groups = _open(chip).read_zone(Zone.PUBLIC)
    assert groups == {1: DG1}
    assert pa_calls.zones == [(SOD, {1: DG1})]
    selects = [entry for entry in chip.log if entry[1] == 0xA4]
    assert selects[-1] == (0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("F04E4549440150"), None)


def test_read_zone_without_security_object() -> None:
    chip = MiniChip(files={0x01: DG1})
    reader = _open(chip)
    with pytest.raises(DataTampered, match=r"no EF\.SOD") as info:
        reader.read_zone(Zone.HOUSEHOLD)
    assert info.value.reason == "MALFORMED"
    assert reader.read_zone(Zone.HOUSEHOLD, verify=False) == {1: DG1}
    data = reader.read_zone_data(Zone.HOUSEHOLD)
    assert (data.zone, dict(data.data_groups), data.sod) == (Zone.HOUSEHOLD, {1: DG1}, None)


def test_passive_authentication_errors_become_data_tampered(monkeypatch: pytest.MonkeyPatch) -> None:
    chip = MiniChip(files={0x01: DG1, 0x1D: SOD})
    reader = _open(chip)

    def mismatch(*args: object, **kwargs: object) -> None:
        raise HashMismatchError(1, "hash differs from the security object")

    monkeypatch.setattr(reader_module, "verify_zone", mismatch)
    with pytest.raises(DataTampered) as info:
        reader.read_household()
    assert (info.value.dg, info.value.reason) == (1, "HASH_MISMATCH")

    def bad_signature(*args: object, **kwargs: object) -> None:
        raise BadSignatureError("signature does not verify")

    monkeypatch.setattr(reader_module, "verify_zone", bad_signature)
    with pytest.raises(DataTampered) as info:
        reader.read_household()
    assert (info.value.dg, info.value.reason) == (None, "BAD_SIGNATURE")


def test_undecodable_zone_is_data_tampered(pa_calls: Calls) -> None:
    chip = MiniChip(files={0x01: DG1, 0x1D: SOD})
    with pytest.raises(DataTampered, match="household zone") as info:
        _open(chip).read_household()
    assert info.value.reason == "MALFORMED"


# -- Active Authentication ----------------------------------------------------------------------------
def _aa_chip(signing_key: ec.EllipticCurvePrivateKey = AA_KEY, spki: bytes = AA_SPKI) -> MiniChip:
    chip = MiniChip(files={15: encode_tlv(0x6F, spki), 0x1D: SOD})
    chip.hooks[0x88] = lambda p1, p2, challenge: (sign_challenge(signing_key, challenge), 0x9000)
    return chip


def test_active_authentication(pa_calls: Calls) -> None:
    chip = _aa_chip()
    reader = _open(chip)
    reader.active_authentication(rng=lambda n: bytes(range(n)))
    assert chip.log[-1] == (0x00, 0x88, 0x00, 0x00, bytes(range(8)), 256)
    assert pa_calls.zones == [(SOD, {15: AaPublicKey(AA_SPKI).encode()})]  # DG15 checked by PA first
    reader.active_authentication()
    assert len(pa_calls.zones) == 1  # the verified key is kept for the session


def test_active_authentication_with_a_foreign_key(pa_calls: Calls) -> None:
    other = ec.derive_private_key(42, ec.SECP521R1())
    with pytest.raises(CardNotGenuine, match="does not verify"):
        _open(_aa_chip(signing_key=other)).active_authentication()


def test_active_authentication_without_dg15(pa_calls: Calls) -> None:
    chip = MiniChip(files={0x1D: SOD})
    with pytest.raises(CardNotGenuine, match="DG15"):
        _open(chip).active_authentication()


def test_active_authentication_with_a_non_ec_key(pa_calls: Calls) -> None:
    rsa_spki = rsa.generate_private_key(65537, 1024).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(CardNotGenuine, match="EC public key"):
        _open(_aa_chip(spki=rsa_spki)).active_authentication()


def test_active_authentication_bad_rng(pa_calls: Calls) -> None:
    with pytest.raises(InvalidInputError):
        _open(_aa_chip()).active_authentication(rng=lambda n: b"short")


def test_close_ends_the_session_and_the_transport() -> None:
    chip = MiniChip()
    reader = _open(chip)
    transport = reader.session.transport
    with reader:
        assert reader.session.secure_messaging_active
    assert not reader.session.secure_messaging_active
    assert isinstance(transport, ScriptedTransport) and transport.closed
    assert reader.uid() is None
