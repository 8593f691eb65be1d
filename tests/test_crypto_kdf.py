"""The TR-03110 / ICAO 9303 key derivation function (neweid.crypto.kdf)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.crypto.errors import CryptoError
from neweid.crypto.kdf import kdf, kdf_enc, kdf_mac, kdf_pi
from neweid.crypto.pace import password_from_mrz
from tests.vectors_loader import BSI_DH, BSI_ECDH, ICAO_G1, group


@pytest.mark.parametrize("name", [BSI_ECDH, BSI_DH, ICAO_G1])
def test_pace_session_keys_known_answer(name: str) -> None:
    pace = group(name, "pace")
    key_len = len(pace.hex("K_enc"))
    assert kdf_enc(pace.hex("shared_secret_K"), key_len) == pace.hex("K_enc")
    assert kdf_mac(pace.hex("shared_secret_K"), key_len) == pace.hex("K_mac")


@pytest.mark.parametrize("name", [BSI_ECDH, BSI_DH])
def test_chip_authentication_keys_with_nonce(name: str) -> None:
    ca = group(name, "ca")
    secret, nonce = ca.hex("shared_secret_K"), ca.hex("nonce_r_picc")
    assert kdf_enc(secret, 16, nonce) == ca.hex("K_enc")
    assert kdf_mac(secret, 16, nonce) == ca.hex("K_mac")
    assert kdf(secret, 1, 16, nonce) == ca.hex("K_enc")


def test_password_key_of_the_icao_example() -> None:
    pace = group(ICAO_G1, "pace")
    password = password_from_mrz(pace.text("mrz_key_seed"))
    assert password == pace.hex("password_K")
    assert kdf_pi(password, 16) == pace.hex("K_pi")


@given(secret=st.binary(max_size=80), counter=st.integers(0, 2**32 - 1), nonce=st.binary(max_size=16))
def test_definition(secret: bytes, counter: int, nonce: bytes) -> None:
    data = secret + nonce + counter.to_bytes(4, "big")
    assert kdf(secret, counter, 16, nonce) == hashlib.sha1(data).digest()[:16]
    assert kdf(secret, counter, 24, nonce) == hashlib.sha256(data).digest()[:24]
    assert kdf(secret, counter, 32, nonce) == hashlib.sha256(data).digest()


def test_counters_differ() -> None:
    assert len({kdf_enc(b"k", 32), kdf_mac(b"k", 32), kdf_pi(b"k", 32)}) == 3
    assert kdf_pi(b"123456", 32) == kdf(b"123456", 3, 32)


@pytest.mark.parametrize("key_len", [0, 8, 15, 20, 33, 64])
def test_rejects_other_key_lengths(key_len: int) -> None:
    with pytest.raises(CryptoError, match="key length"):
        kdf(b"secret", 1, key_len)


@pytest.mark.parametrize("counter", [-1, 2**32])
def test_rejects_counter_out_of_range(counter: int) -> None:
    with pytest.raises(CryptoError, match="counter"):
        kdf(b"secret", counter, 16)
