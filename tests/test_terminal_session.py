"""CardSession: exact APDUs for SELECT / READ BINARY / MSE:Set AT / GENERAL AUTHENTICATE, chunked and
extended reads, T=0 61xx/6Cxx, PACE and secure messaging failures (docs/protocol-profile.md)."""

from __future__ import annotations

import pytest

from neweid.formats.filemap import Interface
from neweid.formats.iso7816 import PasswordRef
from neweid.formats.security_infos import PACEInfo, encode_security_infos
from neweid.formats.tlv import encode_tlv
from neweid.terminal.errors import (
    AccessDenied,
    CardStatusError,
    InterfaceNotAllowed,
    InvalidInputError,
    SecureChannelError,
    WrongAccessCode,
)
from neweid.terminal.session import CardSession, SessionState
from tests.test_terminal_fakes import (
    ATR_EXTENDED,
    ATR_SHORT_ONLY,
    CARD_ACCESS,
    MiniChip,
    ScriptedTransport,
    sw,
)

H = bytes.fromhex
OK = sw(0x9000)


def _session(script: list[tuple[bytes | None, bytes]] | None = None, **kwargs: object) -> tuple[
        CardSession, ScriptedTransport]:
    transport = ScriptedTransport(script, **kwargs)  # type: ignore[arg-type]
    return CardSession(transport), transport


def test_select_commands_exact_bytes() -> None:
    session, transport = _session([
        (H("00A4000C023F00"), OK),
        (H("00A4040C07F04E4549440150"), OK),
        (H("00A4020C020101"), OK),
    ])
    session.select_mf()
    session.select_aid(H("F04E4549440150"))
    session.select_ef(0x0101)
    assert transport.exhausted


def test_select_errors_are_mapped() -> None:
    session, _ = _session([(None, sw(0x6A82)), (None, sw(0x6982)), (None, sw(0x6985))])
    with pytest.raises(CardStatusError) as info:
        session.select_aid(H("A0000002471001"))  # the ICAO travel application is absent
    assert info.value.sw == 0x6A82 and type(info.value) is CardStatusError
    with pytest.raises(AccessDenied):
        session.select_ef(0x0101)
    with pytest.raises(CardStatusError) as info:  # 6985 on the contact interface is not an interface error
        session.select_ef(0x0101)
    assert not isinstance(info.value, InterfaceNotAllowed)


def test_contactless_6985_is_interface_not_allowed() -> None:
    session, _ = _session([(None, sw(0x6985))], interface=Interface.CONTACTLESS)
    with pytest.raises(InterfaceNotAllowed):
        session.select_aid(H("F04E4549440145"))


def test_invalid_arguments_send_nothing() -> None:
    session, transport = _session()
    for call in (lambda: session.select_aid(b""), lambda: session.select_ef(0x10000),
                 lambda: session.read_binary_file(), lambda: session.read_binary_file(1, sfi=1),
                 lambda: session.read_binary(0x8000, 10), lambda: session.read_binary(256, 1, sfi=1),
                 lambda: session.establish_pace("12345", PasswordRef.CAN),
                 lambda: session.establish_pace("1234567", PasswordRef.CAN),
                 lambda: session.establish_pace("ne1234567", PasswordRef.MRZ)):
        with pytest.raises(InvalidInputError):
            call()
    assert transport.sent == []


FILE_600 = encode_tlv(0x61, bytes(range(256)) * 2 + bytes(84))  # 61 82 0254 + 596 bytes = 600 bytes


def test_read_by_sfi_then_one_extended_read() -> None:
    assert len(FILE_600) == 600
    session, transport = _session([
        (H("00B0810000"), FILE_600[:256] + OK),  # SFI 1, offset 0, Le 00 (256)
        (H("00B00100" "00" "0158"), FILE_600[256:] + OK),  # offset 256, extended Le 344
    ])
    assert session.extended_length
    assert session.read_binary_file(sfi=1) == FILE_600
    assert transport.exhausted


def test_read_in_short_chunks_without_extended_length() -> None:
    session, transport = _session([
        (H("00A4020C020101"), OK),
        (H("00B0000000"), FILE_600[:256] + OK),
        (H("00B0010000"), FILE_600[256:512] + OK),
        (H("00B0020058"), FILE_600[512:] + OK),  # exactly the 88 bytes left of the TLV
    ], atr=ATR_SHORT_ONLY)
    assert not session.extended_length
    assert session.read_binary_file(0x0101) == FILE_600
    assert transport.exhausted


def test_read_stops_at_the_tlv_even_if_the_file_is_padded() -> None:
    content = encode_tlv(0x6F, b"abc") + bytes(300)
    session, transport = _session([(H("00B08F0000"), content[:256] + OK)])
    assert session.read_binary_file(sfi=15) == encode_tlv(0x6F, b"abc")
    assert transport.exhausted


def test_read_short_file_and_empty_file() -> None:
    session, _ = _session([
        (H("00B0820000"), H("6103414243") + sw(0x6282)),
        (H("00B0830000"), sw(0x6B00)),
    ])
    assert session.read_binary_file(sfi=2) == H("6103414243")
    assert session.read_binary_file(sfi=3) == b""


def test_read_without_tlv_until_the_end() -> None:
    records = (encode_tlv(0x61, b"x" * 200)) * 2  # EF.DIR: several templates, not one TLV
    session, transport = _session([
        (H("00B09E0000"), records[:256] + OK),
        (H("00B00100" "00" "0000"), records[256:] + sw(0x6282)),  # Le 0000: to the end
    ])
    assert session.read_binary_file(sfi=0x1E, whole_tlv=False) == records
    assert transport.exhausted


def test_read_errors() -> None:
    session, _ = _session([(None, sw(0x6982)), (None, sw(0x6A82))])
    with pytest.raises(AccessDenied):
        session.read_binary_file(sfi=1)
    with pytest.raises(CardStatusError) as info:
        session.read_binary_file(sfi=2)
    assert info.value.sw == 0x6A82


def test_t0_get_response_and_wrong_le_retry() -> None:
    session, transport = _session([
        (H("00B0810004"), sw(0x6C02)),  # wrong Le: exact length 2
        (H("00B0810002"), sw(0x6102)),  # T=0: 2 bytes waiting
        (H("00C0000002"), H("6100") + OK),
    ])
    response = session.send(0x00, 0xB0, 0x81, 0x00, le=4)
    assert (response.data, response.sw) == (H("6100"), 0x9000)
    assert transport.exhausted


# -- PACE ------------------------------------------------------------------------------------------
MSE_SET_AT_CAN = H("0022C1A412" "800A04007F00070202040204" "830102" "840112")


def test_pace_exact_apdus_and_secure_messaging() -> None:
    chip = MiniChip("123456", files={0x01: FILE_600})
    session, transport = _session(responder=chip)
    session.establish_pace("123456", PasswordRef.CAN)
    assert session.state is SessionState.SECURE_MESSAGING and session.pace_ref is PasswordRef.CAN
    sent = transport.sent
    assert sent[0] == H("00A4000C023F00")  # SELECT MF
    assert sent[1] == H("00B09C0000")  # READ BINARY EF.CardAccess by SFI 1C
    assert sent[2] == MSE_SET_AT_CAN  # id-PACE-ECDH-GM-AES-CBC-CMAC-256, CAN, parameters 18
    assert sent[3] == H("10860000027C0000")  # GA 1: empty dynamic authentication data, chained
    # GA 2 and 3: 7C 81 88 { 81/83 81 85 <uncompressed P-521 point> }, chained
    for apdu, tag in ((sent[4], 0x81), (sent[5], 0x83)):
        assert apdu[:5] == H("108600008B") and apdu[5:11] == bytes((0x7C, 0x81, 0x88, tag, 0x81, 0x85))
        assert apdu[11] == 0x04 and len(apdu) == 5 + 0x8B + 1 and apdu[-1] == 0
    assert sent[6][:9] == H("008600000C7C0A8508")  # GA 4: 7C { 85 T_PCD }, not chained
    assert len(sent[6]) == 5 + 12 + 1
    # now protected: the chip sees a plain READ BINARY with Le 223 and the file comes back whole
    assert session.read_binary_file(sfi=1) == FILE_600
    reads = [entry for entry in chip.log if entry[1] == 0xB0]
    assert [entry[5] for entry in reads[-2:]] == [223, 600 - 223]
    assert transport.sent[-1][0] == 0x0C  # SM class byte


def test_pace_with_short_chunks_under_sm() -> None:
    chip = MiniChip("123456", files={0x01: FILE_600})
    transport = ScriptedTransport(responder=chip, atr=ATR_SHORT_ONLY)
    session = CardSession(transport)
    session.establish_pace("123456", PasswordRef.CAN)
    assert session.read_binary_file(sfi=1) == FILE_600
    reads = [entry[5] for entry in chip.log if entry[1] == 0xB0][-3:]
    assert reads == [223, 223, 600 - 446]


def test_wrong_can_is_wrong_access_code() -> None:
    chip = MiniChip("123456")
    session, _ = _session(responder=chip)
    with pytest.raises(WrongAccessCode, match="wrong CAN or MRZ"):
        session.establish_pace("654321", PasswordRef.CAN)
    assert not session.secure_messaging_active


def test_tampered_protected_response_closes_the_channel() -> None:
    chip = MiniChip("123456", files={0x01: FILE_600})

    def tamper(apdu: bytes) -> bytes:
        response = bytearray(chip(apdu))
        if apdu[0] & 0x0C:
            response[5] ^= 1  # inside DO87
        return bytes(response)

    session, _ = _session(responder=tamper)
    session.establish_pace("123456", PasswordRef.CAN)
    with pytest.raises(SecureChannelError, match="run PACE again"):
        session.read_binary_file(sfi=1)
    assert session.state is SessionState.PLAIN


def test_plain_6988_answer_closes_the_channel() -> None:
    chip = MiniChip("123456")
    session, _ = _session(responder=chip)
    session.establish_pace("123456", PasswordRef.CAN)
    chip.sm = None  # the card lost its session keys (e.g. a reset)
    with pytest.raises(SecureChannelError):
        session.select_mf()
    assert not session.secure_messaging_active


def test_unsupported_card_access_and_refused_mse() -> None:
    dh_only = encode_security_infos([PACEInfo("0.4.0.127.0.7.2.2.4.1.2", 2, 0)])
    session, _ = _session([(None, OK), (None, dh_only + OK)])
    with pytest.raises(SecureChannelError, match="no PACE protocol"):
        session.establish_pace("123456", PasswordRef.CAN)
    session, _ = _session([(None, OK), (None, b"\x31\x05garbage"[:4] + OK)])
    with pytest.raises(SecureChannelError, match=r"EF\.CardAccess"):
        session.establish_pace("123456", PasswordRef.CAN)
    session, _ = _session([(None, OK), (None, CARD_ACCESS + OK), (MSE_SET_AT_CAN, sw(0x6A80))])
    with pytest.raises(SecureChannelError, match="MSE:Set AT"):
        session.establish_pace("123456", PasswordRef.CAN)


def test_pace_chip_sends_invalid_point() -> None:
    chip = MiniChip("123456")

    def bad_point(apdu: bytes) -> bytes:
        response = chip(apdu)
        if apdu[1] == 0x86 and len(apdu) > 8 and apdu[8] == 0x81:  # GA 2: corrupt the chip's mapping point
            return response[:-4] + bytes((response[-4] ^ 0xFF,)) + response[-3:]
        return response

    session, _ = _session(responder=bad_point)
    with pytest.raises(SecureChannelError):
        session.establish_pace("123456", PasswordRef.CAN)


def test_extended_length_from_atr_or_forced() -> None:
    assert CardSession(ScriptedTransport(atr=ATR_EXTENDED)).extended_length
    assert not CardSession(ScriptedTransport(atr=ATR_SHORT_ONLY)).extended_length
    assert not CardSession(ScriptedTransport(atr=b"\x00")).extended_length  # unparsable ATR
    assert not CardSession(ScriptedTransport(atr=ATR_EXTENDED), extended_length=False).extended_length
