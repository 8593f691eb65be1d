"""AES secure messaging (neweid.crypto.sm): published samples, round trips, tampering and replay."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neweid.crypto.errors import CryptoError, SecureMessagingError
from neweid.crypto.sm import SecureMessaging, cmac, pad, unpad
from neweid.formats.iso7816 import StatusWord
from tests.vectors_loader import BSI_DH, BSI_ECDH, ICAO_G1, group

K_ENC = bytes(range(32))
K_MAC = bytes(range(32, 64))


def pair(key_len: int = 32) -> tuple[SecureMessaging, SecureMessaging]:
    k_enc, k_mac = K_ENC[:key_len], K_MAC[:key_len]
    return SecureMessaging(k_enc, k_mac), SecureMessaging(k_enc, k_mac)


def split_apdu(apdu: bytes) -> tuple[int, int, int, int, bytes, bool]:
    """Header, data field and 'extended' of a case-4 command APDU (short or extended)."""
    cla, ins, p1, p2 = apdu[:4]
    if apdu[4] == 0 and len(apdu) > 7:
        lc = int.from_bytes(apdu[5:7], "big")
        body = apdu[7 : 7 + lc]
        assert apdu[7 + lc :] == b"\x00\x00"
        return cla, ins, p1, p2, body, True
    lc = apdu[4]
    body = apdu[5 : 5 + lc]
    assert apdu[5 + lc :] == b"\x00"
    return cla, ins, p1, p2, body, False


# --- published samples ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [BSI_ECDH, BSI_DH])
def test_bsi_encryption_sample(name: str) -> None:
    keys, sample = group(name, "pace"), group(name, "sm").fields["encrypt_decrypt"][0]
    sm = SecureMessaging(keys.hex("K_enc"), keys.hex("K_mac"), ssc=sample["ssc"])
    plaintext, ciphertext = bytes.fromhex(sample["plaintext"]), bytes.fromhex(sample["ciphertext"])
    assert sm.encrypt(plaintext) == ciphertext
    assert sm.decrypt(ciphertext) == plaintext
    assert sm.ssc == sample["ssc"]


@pytest.mark.parametrize("name", [BSI_ECDH, BSI_DH])
def test_bsi_mac_sample(name: str) -> None:
    keys, sample = group(name, "pace"), group(name, "sm").fields["authenticate"][0]
    sm = SecureMessaging(keys.hex("K_enc"), keys.hex("K_mac"), ssc=sample["ssc"])
    assert sm.mac(bytes.fromhex(sample["data"])) == bytes.fromhex(sample["mac"])


@pytest.mark.parametrize("name", [BSI_ECDH, BSI_DH])
def test_bsi_mac_sample_as_a_protected_9000_response(name: str) -> None:
    """The MAC sample is DO99 of a 9000 answer at SSC 2: the card side reproduces the whole response."""
    keys, sample = group(name, "pace"), group(name, "sm").fields["authenticate"][0]
    card = SecureMessaging(keys.hex("K_enc"), keys.hex("K_mac"), ssc=sample["ssc"] - 1)
    expected = bytes.fromhex("99029000" + "8E08" + sample["mac"] + "9000")
    assert card.wrap_response(b"", 0x9000) == expected
    terminal = SecureMessaging(keys.hex("K_enc"), keys.hex("K_mac"), ssc=sample["ssc"] - 1)
    assert terminal.unwrap_response(expected) == (b"", 0x9000)


def test_icao_g1_keys_select_cross_checked() -> None:
    """SELECT eMRTD AID under the ICAO G.1 session keys: the APDUs produced by an independent
    implementation (jcexpress, IcaoAppendixG1PaceTest) — not a published vector, a cross-check."""
    keys = group(ICAO_G1, "pace")
    terminal = SecureMessaging(keys.hex("K_enc"), keys.hex("K_mac"))
    apdu = terminal.wrap_command(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("A0000002471001"))
    assert apdu == bytes.fromhex("0CA4040C1D871101752F676B09FAC86A87D632749A49C7CC8E08C18BA1FCE707BD9F00")
    card = SecureMessaging(keys.hex("K_enc"), keys.hex("K_mac"))
    assert card.unwrap_command(*split_apdu(apdu)[:5]) == (bytes.fromhex("A0000002471001"), None)
    response = card.wrap_response(b"", 0x9000)
    assert response == bytes.fromhex("990290008E08BEA7B381C494A0799000")
    assert terminal.unwrap_response(response) == (b"", 0x9000)


# --- padding and CMAC -----------------------------------------------------------------------------


@given(st.binary(max_size=100))
def test_pad_round_trip(data: bytes) -> None:
    padded = pad(data)
    assert len(padded) % 16 == 0 and 0 < len(padded) - len(data) <= 16
    assert padded.startswith(data + b"\x80")
    assert unpad(padded) == data


@pytest.mark.parametrize(
    "bad", [b"", bytes(16), b"\x01" * 16, b"abc\x80\x01" + bytes(11), b"\x80" + bytes(16), b"abc"]
)
def test_unpad_rejects(bad: bytes) -> None:
    with pytest.raises(SecureMessagingError, match="padding"):
        unpad(bad)


def test_cmac_nist_sp800_38b_example() -> None:
    # NIST SP 800-38B, D.1 AES-128 Example 2 (Mlen = 128)
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    msg = bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")
    assert cmac(key, msg) == bytes.fromhex("070a16b46b4d4144f79bdd9dd04a287c")


def test_bad_keys() -> None:
    with pytest.raises(CryptoError, match="16, 24 or 32"):
        SecureMessaging(bytes(15), bytes(16))
    with pytest.raises(CryptoError, match="16, 24 or 32"):
        cmac(bytes(8), b"")
    with pytest.raises(CryptoError, match="sequence counter"):
        SecureMessaging(bytes(16), bytes(16), ssc=-1)
    assert "00" not in repr(SecureMessaging(bytes(16), bytes(16)))


# --- round trips ----------------------------------------------------------------------------------

header = st.tuples(
    st.sampled_from([0x00, 0x10]), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)
)
les = st.one_of(st.none(), st.integers(1, 65536))


@settings(max_examples=150, deadline=None)
@given(
    hdr=header,
    data=st.one_of(st.binary(max_size=300), st.binary(min_size=1000, max_size=1100)),
    le=les,
    answer=st.binary(max_size=300),
    sw=st.integers(0, 0xFFFF),
    key_len=st.sampled_from([16, 24, 32]),
)
def test_command_response_round_trip(
    hdr: tuple[int, int, int, int], data: bytes, le: int | None, answer: bytes, sw: int, key_len: int
) -> None:
    terminal, card = pair(key_len)
    apdu = terminal.wrap_command(*hdr, data=data, le=le)
    cla, ins, p1, p2, body, extended = split_apdu(apdu)
    assert (cla, ins, p1, p2) == (hdr[0] | 0x0C, *hdr[1:])
    assert extended == (len(body) > 255 or (le is not None and le > 256))
    assert card.unwrap_command(cla, ins, p1, p2, body, extended) == (data, le)
    response = card.wrap_response(answer, sw)
    assert response[-2:] == sw.to_bytes(2, "big")
    assert terminal.unwrap_response(response) == (answer, sw)
    assert terminal.ssc == card.ssc == 2


def test_several_commands_in_sequence() -> None:
    terminal, card = pair()
    for i in range(5):
        apdu = terminal.wrap_command(0, 0xB0, 0, i, le=256)
        assert card.unwrap_command(*split_apdu(apdu)) == (b"", 256)
        answer = bytes([i]) * i
        assert terminal.unwrap_response(card.wrap_response(answer, 0x9000)) == (answer, 0x9000)
    assert terminal.ssc == card.ssc == 10


def test_do_structure_even_and_odd_ins() -> None:
    terminal, _ = pair()
    _, _, _, _, body, _ = split_apdu(terminal.wrap_command(0, 0xD6, 0, 0, b"x" * 17, le=None))
    assert body[0] == 0x87 and body[1] == 1 + 32 and body[2] == 0x01
    assert body[-10:-8] == b"\x8e\x08"
    _, _, _, _, body, _ = split_apdu(terminal.wrap_command(0, 0xB1, 0, 0, b"\x54\x02\x00\x00", le=10))
    assert body[0] == 0x85 and body[1] == 16
    assert body[18:21] == b"\x97\x01\x0a"


@pytest.mark.parametrize(
    ("le", "extended", "do97"),
    [(1, False, "970101"), (255, False, "9701ff"), (256, False, "970100"), (257, True, "97020101"),
     (65535, True, "9702ffff"), (65536, True, "97020000")],
)  # fmt: skip
def test_le_encoding(le: int, extended: bool, do97: str) -> None:
    terminal, card = pair()
    apdu = terminal.wrap_command(0, 0xB0, 0, 0, le=le)
    cla, ins, p1, p2, body, ext = split_apdu(apdu)
    assert ext is extended
    assert body.startswith(bytes.fromhex(do97))
    assert apdu.endswith(b"\x00\x00" if extended else b"\x00")
    assert card.unwrap_command(cla, ins, p1, p2, body, ext)[1] == le


def test_extended_apdu_for_long_data_keeps_le_256_unambiguous() -> None:
    terminal, card = pair()
    apdu = terminal.wrap_command(0, 0xD6, 0, 0, bytes(400), le=256)
    cla, ins, p1, p2, body, extended = split_apdu(apdu)
    assert extended and b"\x97\x02\x01\x00" in body
    assert card.unwrap_command(cla, ins, p1, p2, body, extended) == (bytes(400), 256)


def test_do97_00_means_65536_in_an_extended_apdu() -> None:
    terminal, card = pair()
    apdu = terminal.wrap_command(0, 0xB0, 0, 0, le=256)  # short APDU with DO97 = 00
    cla, ins, p1, p2, body, _ = split_apdu(apdu)
    assert card.unwrap_command(cla, ins, p1, p2, body, extended=True)[1] == 65536


@pytest.mark.parametrize(
    ("args", "match"),
    [((0x100, 0, 0, 0), "CLA"), ((0, -1, 0, 0), "INS"), ((0, 0, 256, 0), "P1"), ((0, 0, 0, 999), "P2")],
)
def test_wrap_command_rejects_bad_header(args: tuple[int, int, int, int], match: str) -> None:
    terminal, _ = pair()
    with pytest.raises(CryptoError, match=match):
        terminal.wrap_command(*args)
    assert terminal.ssc == 0


@pytest.mark.parametrize("le", [0, 65537, -5])
def test_wrap_command_rejects_bad_le(le: int) -> None:
    terminal, _ = pair()
    with pytest.raises(CryptoError, match="Le"):
        terminal.wrap_command(0, 0xB0, 0, 0, le=le)


def test_wrap_command_rejects_data_too_long() -> None:
    terminal, _ = pair()
    with pytest.raises(CryptoError, match="too long"):
        terminal.wrap_command(0, 0xD6, 0, 0, bytes(65520))


def test_wrap_response_rejects_bad_sw() -> None:
    _, card = pair()
    with pytest.raises(CryptoError, match="status word"):
        card.wrap_response(b"", 0x10000)


# --- tampering, replay, malformed -----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=1, max_size=40), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_tampered_command_is_rejected(data: bytes, position: int, bit: int) -> None:
    terminal, card = pair()
    cla, ins, p1, p2, body, ext = split_apdu(terminal.wrap_command(0, 0xD6, 1, 2, data, le=16))
    header = bytearray([cla, ins, p1, p2])
    flat = bytearray(bytes(header) + body)
    i = position % len(flat)
    flat[i] ^= 1 << bit
    if i == 0 and (1 << bit) & 0x0C:
        return  # flipping an SM indication bit of CLA is ignored by design (CLA | 0C is MACed)
    with pytest.raises(SecureMessagingError):
        card.unwrap_command(flat[0], flat[1], flat[2], flat[3], bytes(flat[4:]), ext)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=40), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_tampered_response_is_rejected(data: bytes, position: int, bit: int) -> None:
    terminal, card = pair()
    card.unwrap_command(*split_apdu(terminal.wrap_command(0, 0xB0, 0, 0, le=256)))
    response = bytearray(card.wrap_response(data, 0x9000))
    response[position % len(response)] ^= 1 << bit
    with pytest.raises(SecureMessagingError):
        terminal.unwrap_response(bytes(response))


def test_replayed_command_is_rejected() -> None:
    terminal, card = pair()
    apdu = terminal.wrap_command(0, 0x20, 0, 0x81, b"123456")
    card.unwrap_command(*split_apdu(apdu))
    card.wrap_response(b"", 0x9000)
    with pytest.raises(SecureMessagingError, match="MAC"):
        card.unwrap_command(*split_apdu(apdu))


def test_replayed_response_is_rejected() -> None:
    terminal, card = pair()
    card.unwrap_command(*split_apdu(terminal.wrap_command(0, 0x84, 0, 0, le=8)))
    response = card.wrap_response(b"12345678", 0x9000)
    assert terminal.unwrap_response(response)[0] == b"12345678"
    terminal.wrap_command(0, 0x84, 0, 0, le=8)
    with pytest.raises(SecureMessagingError, match="MAC"):
        terminal.unwrap_response(response)


def test_wrong_keys_are_rejected() -> None:
    terminal = SecureMessaging(K_ENC, K_MAC)
    card = SecureMessaging(K_ENC, bytes(32))
    with pytest.raises(SecureMessagingError, match="MAC"):
        card.unwrap_command(*split_apdu(terminal.wrap_command(0, 0xB0, 0, 0, le=1)))


def _macced_body(sm: SecureMessaging, header: bytes, dos: bytes) -> bytes:
    """Build a command body with a correct MAC over arbitrary DOs (at SSC + 1)."""
    probe = SecureMessaging(K_ENC, K_MAC, ssc=sm.ssc + 1)
    return dos + b"\x8e\x08" + probe.mac(pad(header) + dos)


@pytest.mark.parametrize(
    ("dos", "match"),
    [
        ("970100" + "8711" + "01" + "00" * 16, "misplaced"),
        ("99029000", "unexpected"),
        ("8710" + "02" + "00" * 15, "padding-content indicator"),
        ("8702" + "0100", "block size"),
        ("9703000000", "DO97"),
        ("9700", "DO97"),
    ],
)
def test_malformed_but_macced_commands(dos: str, match: str) -> None:
    _, card = pair()
    header = bytes([0x0C, 0xB0, 0, 0])
    body = _macced_body(card, header, bytes.fromhex(dos))
    with pytest.raises(SecureMessagingError, match=match) as info:
        card.unwrap_command(0x0C, 0xB0, 0, 0, body)
    assert info.value.status_word == StatusWord.SM_DATA_OBJECTS_INCORRECT


def test_bad_plaintext_padding_after_a_valid_mac() -> None:
    _, card = pair()
    header = bytes([0x0C, 0xD6, 0, 0])
    enc = SecureMessaging(K_ENC, K_MAC, ssc=1)
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv_enc = Cipher(algorithms.AES(K_ENC), modes.ECB()).encryptor()
    iv = iv_enc.update((1).to_bytes(16, "big")) + iv_enc.finalize()
    raw = Cipher(algorithms.AES(K_ENC), modes.CBC(iv)).encryptor()
    cryptogram = raw.update(b"no padding here!") + raw.finalize()
    assert enc.ssc == 1
    body = _macced_body(card, header, b"\x87\x11\x01" + cryptogram)
    with pytest.raises(SecureMessagingError, match="padding"):
        card.unwrap_command(0x0C, 0xD6, 0, 0, body)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("", StatusWord.SM_DATA_OBJECTS_MISSING),
        ("970100", StatusWord.SM_DATA_OBJECTS_MISSING),
        ("8e080000000000000000970100", StatusWord.SM_DATA_OBJECTS_INCORRECT),
        ("8e0400000000", StatusWord.SM_DATA_OBJECTS_INCORRECT),
        ("8e08000000", StatusWord.SM_DATA_OBJECTS_INCORRECT),
        ("9f", StatusWord.SM_DATA_OBJECTS_INCORRECT),
        ("1f0100", StatusWord.SM_DATA_OBJECTS_INCORRECT),
        ("8784", StatusWord.SM_DATA_OBJECTS_INCORRECT),
    ],
)
def test_missing_or_malformed_mac(body: str, status: StatusWord) -> None:
    _, card = pair()
    with pytest.raises(SecureMessagingError) as info:
        card.unwrap_command(0x0C, 0xB0, 0, 0, bytes.fromhex(body))
    assert info.value.status_word == status


@pytest.mark.parametrize("sw", [0x6987, 0x6988])
def test_plain_sm_error_response_names_the_status(sw: int) -> None:
    terminal, _ = pair()
    terminal.wrap_command(0, 0xB0, 0, 0, le=1)
    with pytest.raises(SecureMessagingError, match=f"{sw:04X}") as info:
        terminal.unwrap_response(sw.to_bytes(2, "big"))
    assert info.value.status_word == sw


@pytest.mark.parametrize("response", ["9000", "6a82", "90", ""])
def test_unprotected_response_is_rejected(response: str) -> None:
    terminal, _ = pair()
    with pytest.raises(SecureMessagingError):
        terminal.unwrap_response(bytes.fromhex(response))


def test_response_without_do99_is_rejected() -> None:
    terminal, card = pair()
    dos = b""
    probe = SecureMessaging(K_ENC, K_MAC, ssc=1)
    response = dos + b"\x8e\x08" + probe.mac(dos) + b"\x90\x00"
    with pytest.raises(SecureMessagingError, match="DO99") as info:
        terminal.unwrap_response(response)
    assert info.value.status_word == StatusWord.SM_DATA_OBJECTS_MISSING
    assert card.ssc == 0


def test_do99_must_match_the_trailing_status_word() -> None:
    terminal, card = pair()
    response = card.wrap_response(b"", 0x6A82)
    forged = response[:-2] + b"\x90\x00"
    with pytest.raises(SecureMessagingError, match="DO99"):
        terminal.unwrap_response(forged)


def test_decrypt_rejects_bad_lengths() -> None:
    sm, _ = pair()
    for bad in (b"", bytes(15), bytes(17)):
        with pytest.raises(SecureMessagingError, match="block size"):
            sm.decrypt(bad)
