"""Chip Authentication version 2 (neweid.crypto.ca): the BSI worked example byte for byte, the state
machines on P-521, and the refusals (wrong key = cloned chip, unbound ephemeral key, replays)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.crypto.ca import (
    ID_CA_ECDH_AES_CBC_CMAC_128,
    ID_CA_ECDH_AES_CBC_CMAC_256,
    CaChip,
    CaState,
    CaTerminal,
    ca_derive_keys,
    ca_suite_key_len,
    ca_token,
)
from neweid.crypto.ec import BRAINPOOL_P256R1, NIST_P521, decode_point, ecdh_x, encode_point
from neweid.crypto.errors import AuthenticationError, CryptoError, InvalidPointError
from tests.vectors_loader import BSI_ECDH, group

CA = group(BSI_ECDH, "ca")


def fixed(value: bytes):  # type: ignore[no-untyped-def]
    def rng(n: int) -> bytes:
        assert n == len(value)
        return value
    return rng


def test_worked_example_steps() -> None:
    assert CA.text("protocol_oid") == ID_CA_ECDH_AES_CBC_CMAC_128
    curve = BRAINPOOL_P256R1
    eph_pcd = CA.hex("eph_public_key_pcd")
    shared = ecdh_x(curve, CA.int_hex("static_private_key_picc"), decode_point(curve, eph_pcd))
    assert shared == CA.hex("shared_secret_K")
    assert ecdh_x(curve, CA.int_hex("eph_private_key_pcd"),
                  decode_point(curve, CA.hex("static_public_key_picc"))) == shared
    k_enc, k_mac = ca_derive_keys(shared, CA.hex("nonce_r_picc"), 16)
    assert (k_enc, k_mac) == (CA.hex("K_enc"), CA.hex("K_mac"))
    assert ca_token(k_mac, ID_CA_ECDH_AES_CBC_CMAC_128, curve, eph_pcd) == CA.hex("token_T_PICC")


def test_worked_example_state_machines() -> None:
    curve = BRAINPOOL_P256R1
    eph = CA.int_hex("eph_private_key_pcd").to_bytes(32, "big")
    terminal = CaTerminal(curve, CA.hex("static_public_key_picc"), ID_CA_ECDH_AES_CBC_CMAC_128, fixed(eph))
    assert terminal.ephemeral_public == CA.hex("eph_public_key_pcd")
    chip = CaChip(curve, CA.int_hex("static_private_key_picc"), ID_CA_ECDH_AES_CBC_CMAC_128,
                  fixed(CA.hex("nonce_r_picc")))
    response = chip.respond(terminal.ephemeral_public, terminal.comp_ephemeral)
    assert (response.r_picc, response.t_picc) == (CA.hex("nonce_r_picc"), CA.hex("token_T_PICC"))
    assert (response.k_enc, response.k_mac) == (CA.hex("K_enc"), CA.hex("K_mac"))
    assert terminal.finish(response.r_picc, response.t_picc) == (CA.hex("K_enc"), CA.hex("K_mac"))
    assert chip.state is CaState.DONE and terminal.state is CaState.DONE
    assert CA.hex("K_mac").hex() not in repr(response)


def _p521_pair() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP521R1())
    numbers = key.public_key().public_numbers()
    return key, encode_point(NIST_P521, (numbers.x, numbers.y))


def test_p521_run_with_a_cryptography_key() -> None:
    key, public = _p521_pair()
    terminal = CaTerminal(NIST_P521, public)
    response = CaChip(NIST_P521, key).respond(terminal.ephemeral_public, terminal.comp_ephemeral)
    assert len(response.k_enc) == 32 and len(response.t_picc) == 8 and len(response.r_picc) == 8
    assert terminal.finish(response.r_picc, response.t_picc) == (response.k_enc, response.k_mac)
    assert len(terminal.comp_ephemeral) == 66


def test_cloned_chip_is_detected() -> None:
    _, public = _p521_pair()
    clone_key, _ = _p521_pair()
    terminal = CaTerminal(NIST_P521, public)
    response = CaChip(NIST_P521, clone_key).respond(terminal.ephemeral_public)
    with pytest.raises(AuthenticationError, match="cloned chip"):
        terminal.finish(response.r_picc, response.t_picc)
    assert terminal.state is CaState.FAILED


def test_chip_refuses_a_key_not_bound_by_ta() -> None:
    key, public = _p521_pair()
    terminal, other = CaTerminal(NIST_P521, public), CaTerminal(NIST_P521, public)
    chip = CaChip(NIST_P521, key)
    with pytest.raises(AuthenticationError, match="bound by Terminal Authentication"):
        chip.respond(terminal.ephemeral_public, other.comp_ephemeral)
    assert chip.state is CaState.FAILED
    with pytest.raises(CryptoError, match="not allowed in state failed"):
        chip.respond(terminal.ephemeral_public, terminal.comp_ephemeral)


def test_one_shot_and_bad_inputs() -> None:
    key, public = _p521_pair()
    terminal = CaTerminal(NIST_P521, public)
    chip = CaChip(NIST_P521, key)
    response = chip.respond(terminal.ephemeral_public)
    with pytest.raises(CryptoError, match="state done"):
        chip.respond(terminal.ephemeral_public)
    terminal.finish(response.r_picc, response.t_picc)
    with pytest.raises(CryptoError, match="state done"):
        terminal.finish(response.r_picc, response.t_picc)
    with pytest.raises(InvalidPointError):
        CaChip(NIST_P521, key).respond(b"\x04" + bytes(132))
    with pytest.raises(CryptoError, match="out of range"):
        CaChip(NIST_P521, 0)
    with pytest.raises(CryptoError, match="unsupported Chip Authentication protocol"):
        CaChip(NIST_P521, key, "0.4.0.127.0.7.2.2.3.1.2")
    with pytest.raises(CryptoError, match="r_PICC"):
        ca_derive_keys(b"\x01" * 66, b"\x00" * 7, 32)
    with pytest.raises(CryptoError, match="wrong number"):
        CaChip(NIST_P521, key, rng=lambda n: b"\x00").respond(terminal.ephemeral_public)
    assert ca_suite_key_len(ID_CA_ECDH_AES_CBC_CMAC_256) == 32
