"""Active Authentication (neweid.crypto.aa): ECDSA P-521 / SHA-512 with plain r || s signatures."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from neweid.crypto.aa import der_to_plain, plain_to_der, sign_challenge, verify_challenge
from neweid.crypto.errors import AuthenticationError, CryptoError
from tests.vectors_loader import BSI_ECDH, group

KEY = ec.derive_private_key(0x1234567890ABCDEF1234567890ABCDEF, ec.SECP521R1())
CHALLENGE = bytes.fromhex("0102030405060708")


def test_sign_and_verify_p521() -> None:
    signature = sign_challenge(KEY, CHALLENGE)
    assert len(signature) == 132
    verify_challenge(KEY.public_key(), CHALLENGE, signature)


def test_signature_verifies_independently_with_sha512() -> None:
    """The plain signature, re-encoded by hand, verifies with pyca/cryptography over SHA-512."""
    signature = sign_challenge(KEY, CHALLENGE)
    r, s = int.from_bytes(signature[:66], "big"), int.from_bytes(signature[66:], "big")
    KEY.public_key().verify(encode_dss_signature(r, s), CHALLENGE, ec.ECDSA(hashes.SHA512()))


def test_published_ecdsa_sha512_plain_signature() -> None:
    """The BSI worked example's Terminal Authentication signature (ECDSA-SHA-512 on brainpoolP512r1, plain
    format) verifies: the same plain-signature path the AA check uses."""
    ta, pace, ca = group(BSI_ECDH, "ta"), group(BSI_ECDH, "pace"), group(BSI_ECDH, "ca")
    cert = ta.hex("terminal_certificate")
    start = cert.index(bytes.fromhex("86818104")) + 3  # public point DO in the terminal certificate
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.BrainpoolP512R1(), cert[start : start + 129])
    signed = (
        pace.hex("eph_public_key_picc")[1:33] + ta.hex("nonce_r_picc") + ca.hex("eph_public_key_pcd")[1:33]
    )
    signature = ta.hex("signature")
    verify_challenge(public_key, signed, signature)
    with pytest.raises(AuthenticationError):
        verify_challenge(public_key, signed[:-1] + b"\x00", signature)


def test_wrong_challenge_is_rejected() -> None:
    signature = sign_challenge(KEY, CHALLENGE)
    with pytest.raises(AuthenticationError, match="does not verify"):
        verify_challenge(KEY.public_key(), bytes(8), signature)


@settings(max_examples=30, deadline=None)
@given(position=st.integers(0, 131), bit=st.integers(0, 7))
def test_tampered_signature_is_rejected(position: int, bit: int) -> None:
    signature = bytearray(sign_challenge(KEY, CHALLENGE))
    signature[position] ^= 1 << bit
    with pytest.raises(AuthenticationError):
        verify_challenge(KEY.public_key(), CHALLENGE, bytes(signature))


def test_other_key_is_rejected() -> None:
    other = ec.derive_private_key(42, ec.SECP521R1())
    with pytest.raises(AuthenticationError):
        verify_challenge(other.public_key(), CHALLENGE, sign_challenge(KEY, CHALLENGE))


@pytest.mark.parametrize("length", [0, 64, 131, 133, 264])
def test_wrong_length_is_rejected(length: int) -> None:
    with pytest.raises(AuthenticationError, match="length"):
        verify_challenge(KEY.public_key(), CHALLENGE, bytes(length))


def test_zero_halves_are_rejected() -> None:
    with pytest.raises(AuthenticationError):
        verify_challenge(KEY.public_key(), CHALLENGE, bytes(132))


@given(r=st.integers(1, 2**521 - 1), s=st.integers(1, 2**521 - 1))
def test_plain_der_round_trip(r: int, s: int) -> None:
    der = encode_dss_signature(r, s)
    plain = der_to_plain(der, 66)
    assert plain == r.to_bytes(66, "big") + s.to_bytes(66, "big")
    assert decode_dss_signature(plain_to_der(plain)) == (r, s)


def test_conversion_errors() -> None:
    with pytest.raises(CryptoError, match="malformed"):
        der_to_plain(b"\x30\x00garbage", 66)
    with pytest.raises(CryptoError, match="does not fit"):
        der_to_plain(encode_dss_signature(2**528, 1), 66)
    for bad in (b"", b"\x01\x02\x03"):
        with pytest.raises(CryptoError, match="equal length"):
            plain_to_der(bad)
