"""PACE ECDH Generic Mapping (neweid.crypto.pace): the BSI and ICAO worked examples byte for byte, the
state machines, and our profile (NIST P-521, AES-256)."""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import pytest

from neweid.crypto import ec, pace
from neweid.crypto.errors import AuthenticationError, CryptoError, InvalidPointError
from neweid.crypto.kdf import kdf_pi
from neweid.crypto.sm import SecureMessaging
from tests.vectors_loader import BSI_ECDH, ICAO_G1, Group, group

VECTORS = [BSI_ECDH, ICAO_G1]


def scripted_rng(*chunks: bytes) -> Callable[[int], bytes]:
    """An rng that hands out exactly these byte strings, in order, and checks the requested sizes."""
    queue = list(chunks)

    def rng(n: int) -> bytes:
        chunk = queue.pop(0)
        assert len(chunk) == n, f"asked for {n} bytes, script has {len(chunk)}"
        return chunk

    return rng


def private(v: Group, key: str) -> bytes:
    """A private key of the example as the 32 bytes random_scalar draws on brainpoolP256r1."""
    return v.int_hex(key).to_bytes(32, "big")


def password_of(v: Group) -> bytes:
    if "password_hex" in v.fields:
        return v.hex("password_hex")
    return pace.password_from_mrz(v.text("mrz_key_seed"))


def point(v: Group, key: str) -> ec.Point:
    return ec.decode_point(ec.BRAINPOOL_P256R1, v.hex(key))


# --- the worked examples, step by step ------------------------------------------------------------


@pytest.mark.parametrize("name", VECTORS)
def test_worked_example_steps(name: str) -> None:
    v = group(name, "pace")
    curve = ec.curve_by_param_id(v.int("parameter_id"))
    assert curve is ec.BRAINPOOL_P256R1
    suite = pace.suite_by_oid(v.text("protocol_oid"))
    assert suite.key_len == 16

    k_pi = kdf_pi(password_of(v), suite.key_len)
    if "K_pi" in v.fields:
        assert k_pi == v.hex("K_pi")
    assert pace.decrypt_nonce(k_pi, v.hex("encrypted_nonce_z")) == v.hex("nonce_s")
    assert pace.encrypt_nonce(k_pi, v.hex("nonce_s")) == v.hex("encrypted_nonce_z")

    sk_map_pcd, sk_map_picc = v.int_hex("map_private_key_pcd"), v.int_hex("map_private_key_picc")
    pk_map_pcd = ec.point_mul(curve, sk_map_pcd, curve.g)
    pk_map_picc = ec.point_mul(curve, sk_map_picc, curve.g)
    assert pk_map_pcd is not None and pk_map_picc is not None
    assert ec.encode_point(curve, pk_map_pcd) == v.hex("map_public_key_pcd")
    assert ec.encode_point(curve, pk_map_picc) == v.hex("map_public_key_picc")

    h = pace.mapping_point(curve, sk_map_pcd, pk_map_picc)
    assert h == pace.mapping_point(curve, sk_map_picc, pk_map_pcd)
    assert ec.encode_point(curve, h) == v.hex("map_shared_secret_H")

    g_tilde = pace.map_generator(curve, v.hex("nonce_s"), h)
    assert ec.encode_point(curve, g_tilde) == v.hex("mapped_generator_G_tilde")

    sk_pcd, sk_picc = v.int_hex("eph_private_key_pcd"), v.int_hex("eph_private_key_picc")
    pk_pcd, pk_picc = ec.point_mul(curve, sk_pcd, g_tilde), ec.point_mul(curve, sk_picc, g_tilde)
    assert pk_pcd is not None and pk_picc is not None
    assert ec.encode_point(curve, pk_pcd) == v.hex("eph_public_key_pcd")
    assert ec.encode_point(curve, pk_picc) == v.hex("eph_public_key_picc")

    k = pace.shared_secret(curve, sk_pcd, pk_picc)
    assert k == pace.shared_secret(curve, sk_picc, pk_pcd) == v.hex("shared_secret_K")
    k_enc, k_mac = pace.derive_session_keys(k, suite.key_len)
    assert (k_enc, k_mac) == (v.hex("K_enc"), v.hex("K_mac"))

    if "token_input_pcd" in v.fields:
        assert pace.public_key_data(suite.oid, curve, pk_picc) == v.hex("token_input_pcd")
        assert pace.public_key_data(suite.oid, curve, pk_pcd) == v.hex("token_input_picc")
    t_pcd = pace.authentication_token(k_mac, suite.oid, curve, pk_picc)
    t_picc = pace.authentication_token(k_mac, suite.oid, curve, pk_pcd)
    assert t_pcd == v.hex("token_T_PCD")
    assert t_picc == v.hex("token_T_PICC")
    pace.verify_token(k_mac, suite.oid, curve, pk_picc, t_pcd)
    pace.verify_token(k_mac, suite.oid, curve, pk_pcd, t_picc)


@pytest.mark.parametrize("name", VECTORS)
def test_worked_example_through_the_state_machines(name: str) -> None:
    """Both state machines, fed the example's random values, reproduce every message of the run."""
    v = group(name, "pace")
    curve, suite, password = ec.BRAINPOOL_P256R1, pace.suite_by_oid(v.text("protocol_oid")), password_of(v)
    chip = pace.PaceChip(
        curve,
        suite,
        password,
        scripted_rng(
            v.hex("nonce_s"), private(v, "map_private_key_picc"), private(v, "eph_private_key_picc")
        ),
    )
    terminal = pace.PaceTerminal(
        curve,
        suite,
        password,
        scripted_rng(private(v, "map_private_key_pcd"), private(v, "eph_private_key_pcd")),
    )
    assert chip.state is terminal.state is pace.PaceState.INITIAL

    z = chip.nonce()
    assert z == v.hex("encrypted_nonce_z")
    pcd_map = terminal.start(z)
    assert pcd_map == v.hex("map_public_key_pcd")
    picc_map = chip.map(pcd_map)
    assert picc_map == v.hex("map_public_key_picc")
    pcd_eph = terminal.map(picc_map)
    assert pcd_eph == v.hex("eph_public_key_pcd")
    picc_eph = chip.agree(pcd_eph)
    assert picc_eph == v.hex("eph_public_key_picc")
    t_pcd = terminal.agree(picc_eph)
    assert t_pcd == v.hex("token_T_PCD")
    t_picc, chip_enc, chip_mac = chip.finish(t_pcd)
    assert t_picc == v.hex("token_T_PICC")
    assert terminal.finish(t_picc) == (chip_enc, chip_mac) == (v.hex("K_enc"), v.hex("K_mac"))
    assert (chip.state, terminal.state) == (pace.PaceState.DONE, pace.PaceState.DONE)


# --- our profile: P-521 / AES-256 -----------------------------------------------------------------

P521 = ec.NIST_P521
AES256 = pace.suite_by_oid(pace.ID_PACE_ECDH_GM_AES_CBC_CMAC_256)


def run_pace(
    chip_password: bytes,
    terminal_password: bytes,
    curve: ec.Curve = P521,
    suite: pace.PaceSuite = AES256,
    seed: int = 1,
) -> tuple[pace.PaceChip, pace.PaceTerminal, bytes]:
    """Run the first three steps; returns the parties and the terminal's token."""
    chip_rng, terminal_rng = random.Random(seed), random.Random(seed + 1000)
    chip = pace.PaceChip(curve, suite, chip_password, chip_rng.randbytes)
    terminal = pace.PaceTerminal(curve, suite, terminal_password, terminal_rng.randbytes)
    pcd_map = terminal.start(chip.nonce())
    pcd_eph = terminal.map(chip.map(pcd_map))
    t_pcd = terminal.agree(chip.agree(pcd_eph))
    return chip, terminal, t_pcd


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_p521_aes256_end_to_end(seed: int) -> None:
    password = pace.password_from_can("123456")
    chip, terminal, t_pcd = run_pace(password, password, seed=seed)
    t_picc, k_enc, k_mac = chip.finish(t_pcd)
    assert terminal.finish(t_picc) == (k_enc, k_mac)
    assert len(k_enc) == len(k_mac) == 32 and k_enc != k_mac
    # the keys drive secure messaging on both sides
    host, card = SecureMessaging(k_enc, k_mac), SecureMessaging(k_enc, k_mac)
    apdu = host.wrap_command(0x00, 0xB0, 0x81, 0x00, le=256)
    assert card.unwrap_command(apdu[0], apdu[1], apdu[2], apdu[3], apdu[5:-1]) == (b"", 256)
    assert host.unwrap_response(card.wrap_response(b"data", 0x9000)) == (b"data", 0x9000)


@pytest.mark.parametrize("curve", ec.CURVES, ids=lambda c: c.name)
@pytest.mark.parametrize("suite", pace.PACE_SUITES, ids=lambda s: str(s.key_len))
def test_every_curve_and_suite(curve: ec.Curve, suite: pace.PaceSuite) -> None:
    chip, terminal, t_pcd = run_pace(b"T22000129", b"T22000129", curve, suite, seed=curve.param_id or 0)
    t_picc, k_enc, k_mac = chip.finish(t_pcd)
    assert terminal.finish(t_picc) == (k_enc, k_mac)
    assert len(k_enc) == suite.key_len


def test_wrong_password_fails_on_the_chip() -> None:
    chip, _, t_pcd = run_pace(pace.password_from_can("123456"), pace.password_from_can("654321"))
    with pytest.raises(AuthenticationError, match="wrong password"):
        chip.finish(t_pcd)
    assert chip.state is pace.PaceState.FAILED
    with pytest.raises(CryptoError):
        chip.finish(t_pcd)  # no second try in the same run


def test_forged_chip_token_fails_on_the_terminal() -> None:
    password = pace.password_from_can("123456")
    chip, terminal, t_pcd = run_pace(password, password)
    t_picc, _, _ = chip.finish(t_pcd)
    with pytest.raises(AuthenticationError):
        terminal.finish(bytes([t_picc[0] ^ 1]) + t_picc[1:])
    assert terminal.state is pace.PaceState.FAILED


def test_reflected_token_is_rejected() -> None:
    """The chip must not accept its own token back (tokens are bound to the other side's key)."""
    password = pace.password_from_can("123456")
    chip, terminal, t_pcd = run_pace(password, password)
    t_picc, _, _ = chip.finish(t_pcd)
    with pytest.raises(AuthenticationError):
        terminal.finish(t_pcd)
    assert t_picc != t_pcd


def test_out_of_order_calls() -> None:
    chip = pace.PaceChip(P521, AES256, b"123456", os.urandom)
    with pytest.raises(CryptoError, match="not allowed"):
        chip.map(b"\x04" + bytes(132))
    assert chip.state is pace.PaceState.FAILED
    with pytest.raises(CryptoError, match="not allowed"):
        chip.nonce()

    terminal = pace.PaceTerminal(P521, AES256, b"123456", os.urandom)
    with pytest.raises(CryptoError, match="not allowed"):
        terminal.finish(bytes(8))
    terminal = pace.PaceTerminal(P521, AES256, b"123456", os.urandom)
    chip = pace.PaceChip(P521, AES256, b"123456", os.urandom)
    terminal.start(chip.nonce())
    with pytest.raises(CryptoError, match="not allowed"):
        terminal.start(bytes(16))


def test_chip_rejects_its_own_ephemeral_key_echoed() -> None:
    curve = ec.BRAINPOOL_P256R1
    suite = pace.suite_by_oid(pace.ID_PACE_ECDH_GM_AES_CBC_CMAC_128)
    v = group(BSI_ECDH, "pace")
    rng = scripted_rng(
        v.hex("nonce_s"), private(v, "map_private_key_picc"), private(v, "eph_private_key_picc")
    )
    chip = pace.PaceChip(curve, suite, b"123456", rng)
    chip.nonce()
    chip.map(v.hex("map_public_key_pcd"))
    with pytest.raises(InvalidPointError, match="equals ours"):
        chip.agree(v.hex("eph_public_key_picc"))
    assert chip.state is pace.PaceState.FAILED


@pytest.mark.parametrize(
    "bad_point",
    [b"", b"\x04" + bytes(132), b"\x02" + bytes(66), b"\x04" + (1).to_bytes(66, "big") * 2],
)
def test_invalid_peer_points(bad_point: bytes) -> None:
    chip = pace.PaceChip(P521, AES256, b"123456", os.urandom)
    chip.nonce()
    with pytest.raises(InvalidPointError):
        chip.map(bad_point)
    assert chip.state is pace.PaceState.FAILED

    terminal = pace.PaceTerminal(P521, AES256, b"123456", os.urandom)
    terminal.start(pace.PaceChip(P521, AES256, b"123456", os.urandom).nonce())
    with pytest.raises(InvalidPointError):
        terminal.map(bad_point)


def test_mapping_with_the_inverse_point_fails() -> None:
    """If H = -s·G the mapped generator would be infinity: map_generator refuses."""
    curve = ec.BRAINPOOL_P256R1
    nonce = bytes(range(16))
    minus_sg = ec.point_neg(curve, ec.point_mul(curve, int.from_bytes(nonce, "big"), curve.g))
    assert minus_sg is not None
    with pytest.raises(InvalidPointError, match="infinity"):
        pace.map_generator(curve, nonce, minus_sg)


def test_terminal_rejects_garbage_nonce() -> None:
    terminal = pace.PaceTerminal(P521, AES256, b"123456", os.urandom)
    with pytest.raises(CryptoError, match="multiple of 16"):
        terminal.start(bytes(15))
    assert terminal.state is pace.PaceState.FAILED


def test_chip_nonce_is_one_block_and_decrypts_with_the_password() -> None:
    chip = pace.PaceChip(P521, AES256, b"123456", scripted_rng(bytes(range(16))))
    z = chip.nonce()
    assert len(z) == 16
    assert pace.decrypt_nonce(kdf_pi(b"123456", 32), z) == bytes(range(16))


def test_chip_rejects_a_short_random_source() -> None:
    chip = pace.PaceChip(P521, AES256, b"123456", lambda n: bytes(n - 1))
    with pytest.raises(CryptoError, match="wrong number"):
        chip.nonce()


# --- small pieces ---------------------------------------------------------------------------------


def test_suites() -> None:
    assert pace.suite_by_oid("0.4.0.127.0.7.2.2.4.2.4") == pace.PaceSuite(
        pace.ID_PACE_ECDH_GM_AES_CBC_CMAC_256, 32
    )
    assert pace.suite_by_oid(pace.ID_PACE_ECDH_GM_AES_CBC_CMAC_192).key_len == 24
    assert pace.suite_by_oid(pace.ID_PACE_ECDH_GM_AES_CBC_CMAC_128).key_len == 16
    for unknown in ("0.4.0.127.0.7.2.2.4.2.1", "0.4.0.127.0.7.2.2.4.1.2", "1.2.3", ""):
        with pytest.raises(CryptoError, match="unsupported PACE protocol"):
            pace.suite_by_oid(unknown)


def test_passwords() -> None:
    assert pace.password_from_can("123456") == b"123456"
    assert pace.password_from_mrz("T22000129364081251010318") == group(ICAO_G1, "pace").hex("password_K")
    for bad in ("", "12a456", "１２３"):
        with pytest.raises(CryptoError):
            pace.password_from_can(bad)
    for bad in ("", "T2200012９"):
        with pytest.raises(CryptoError):
            pace.password_from_mrz(bad)


def test_public_key_data_for_p521_uses_long_lengths() -> None:
    q = ec.point_mul(P521, 7, P521.g)
    assert q is not None
    data = pace.public_key_data(AES256.oid, P521, q)
    # 7F49 81 94 { 06 0A <oid> 86 81 85 04 X Y }: 12 + 3 + 133 = 148 = 0x94 bytes
    assert data[:4] == bytes.fromhex("7F498194")
    assert data[4:16] == bytes.fromhex("060A04007F00070202040204")
    assert data[16:19] == bytes.fromhex("868185")
    assert data[19:] == ec.encode_point(P521, q)


def test_public_key_data_rejects_bad_oid() -> None:
    with pytest.raises(CryptoError, match="object identifier"):
        pace.public_key_data("not an oid", P521, P521.g)


def test_verify_token_rejects_wrong_and_short_tokens() -> None:
    k_mac = bytes(32)
    good = pace.authentication_token(k_mac, AES256.oid, P521, P521.g)
    pace.verify_token(k_mac, AES256.oid, P521, P521.g, good)
    for bad in (good[:7], good + b"\x00", bytes(8), b""):
        with pytest.raises(AuthenticationError):
            pace.verify_token(k_mac, AES256.oid, P521, P521.g, bad)


def test_nonce_cipher_rejects_bad_sizes() -> None:
    with pytest.raises(CryptoError):
        pace.encrypt_nonce(bytes(16), bytes(10))
    with pytest.raises(CryptoError):
        pace.decrypt_nonce(bytes(10), bytes(16))
