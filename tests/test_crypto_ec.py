"""EC domain parameters and arithmetic (neweid.crypto.ec), checked against OpenSSL and against a naive
affine double-and-add."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives.asymmetric import ec as cec
from cryptography.x509.oid import ObjectIdentifier
from hypothesis import given, settings
from hypothesis import strategies as st

from neweid.crypto import ec
from neweid.crypto.errors import CryptoError, InvalidPointError

ALL = list(ec.CURVES)
WITH_OPENSSL = [c for c in ALL if ec.has_crypto_curve(c)]
PURE_ONLY = [c for c in ALL if not ec.has_crypto_curve(c)]


def is_probable_prime(n: int) -> bool:
    if n < 2:
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    rnd = random.Random(n)
    for _ in range(32):
        x = pow(rnd.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def naive_mul(curve: ec.Curve, k: int, p: ec.Point | None) -> ec.Point | None:
    result: ec.Point | None = None
    addend = p
    while k:
        if k & 1:
            result = ec.point_add(curve, result, addend)
        addend = ec.point_add(curve, addend, addend)
        k >>= 1
    return result


def openssl_mul_g(curve: ec.Curve, k: int) -> ec.Point:
    nums = cec.derive_private_key(k, ec.crypto_curve(curve)).public_key().public_numbers()
    return (nums.x, nums.y)


# --- domain parameters ----------------------------------------------------------------------------


def test_table_4_ids_in_order() -> None:
    assert [c.param_id for c in ALL] == list(range(8, 19))
    assert [ec.curve_by_param_id(i) for i in range(8, 19)] == ALL
    assert ec.curve_by_param_id(18) is ec.NIST_P521
    assert ec.curve_by_param_id(13) is ec.BRAINPOOL_P256R1


@pytest.mark.parametrize("bad", [0, 2, 7, 19, -1])
def test_unknown_param_id(bad: int) -> None:
    with pytest.raises(CryptoError, match="parameter ID"):
        ec.curve_by_param_id(bad)


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
def test_domain_parameters_are_sound(curve: ec.Curve) -> None:
    assert is_probable_prime(curve.p)
    assert is_probable_prime(curve.n)
    assert curve.h == 1
    assert ec.is_on_curve(curve, curve.g)
    assert (4 * curve.a**3 + 27 * curve.b**2) % curve.p != 0
    assert ec.point_mul_pure(curve, curve.n, curve.g) is None
    assert ec.point_mul_pure(curve, curve.n - 1, curve.g) == ec.point_neg(curve, curve.g)
    assert curve.byte_len * 8 >= curve.p.bit_length() > curve.byte_len * 8 - 8


def test_byte_lengths() -> None:
    assert ec.NIST_P521.byte_len == 66
    assert ec.NIST_P521.order_byte_len == 66
    assert ec.BRAINPOOL_P256R1.byte_len == 32
    assert ec.BRAINPOOL_P320R1.byte_len == 40


@pytest.mark.parametrize("curve", WITH_OPENSSL, ids=lambda c: c.name)
def test_names_and_oids_agree_with_cryptography(curve: ec.Curve) -> None:
    cc = ec.crypto_curve(curve)
    assert cc.name == curve.name
    assert cec.get_curve_for_oid(ObjectIdentifier(curve.oid)) is type(cc)
    assert ec.curve_by_oid(curve.oid) is curve


@pytest.mark.parametrize("curve", PURE_ONLY, ids=lambda c: c.name)
def test_curves_without_openssl(curve: ec.Curve) -> None:
    with pytest.raises(CryptoError, match="does not implement"):
        ec.crypto_curve(curve)
    assert curve.oid.startswith("1.3.36.3.3.2.8.1.1.")


def test_curve_by_name() -> None:
    assert ec.curve_by_name("P-521") is ec.NIST_P521
    assert ec.curve_by_name("secp521r1") is ec.NIST_P521
    assert ec.curve_by_name("brainpoolP256r1") is ec.BRAINPOOL_P256R1
    assert ec.curve_by_name("BRAINPOOLP256R1") is ec.BRAINPOOL_P256R1
    assert ec.curve_by_name("prime256v1") is ec.NIST_P256
    with pytest.raises(CryptoError, match="unknown curve"):
        ec.curve_by_name("curve25519")
    with pytest.raises(CryptoError, match="unknown curve OID"):
        ec.curve_by_oid("1.2.3")


# --- scalar multiplication ------------------------------------------------------------------------


@pytest.mark.parametrize("curve", WITH_OPENSSL, ids=lambda c: c.name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_pure_mul_matches_openssl(curve: ec.Curve, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=1, max_value=curve.n - 1))
    assert ec.point_mul_pure(curve, k, curve.g) == openssl_mul_g(curve, k)
    assert ec.point_mul(curve, k, curve.g) == openssl_mul_g(curve, k)


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_pure_mul_matches_double_and_add_on_any_point(curve: ec.Curve, data: st.DataObject) -> None:
    base = naive_mul(curve, data.draw(st.integers(min_value=1, max_value=curve.n - 1)), curve.g)
    k = data.draw(st.integers(min_value=0, max_value=2 * curve.n))
    assert ec.point_mul(curve, k, base) == naive_mul(curve, k % curve.n, base)


@pytest.mark.parametrize(
    "curve", [ec.NIST_P521, ec.BRAINPOOL_P256R1, ec.BRAINPOOL_P320R1], ids=lambda c: c.name
)
@pytest.mark.parametrize("k_offset", [1, 2, 3, 15, 16, 31, 32, 33, -1, -2, -31, -32])
def test_edge_scalars(curve: ec.Curve, k_offset: int) -> None:
    k = k_offset % curve.n
    assert ec.point_mul_pure(curve, k, curve.g) == naive_mul(curve, k, curve.g)


def test_infinity_cases() -> None:
    c = ec.NIST_P521
    assert ec.point_mul(c, 0, c.g) is None
    assert ec.point_mul(c, c.n, c.g) is None
    assert ec.point_mul(c, 5, None) is None
    assert ec.point_mul(c, c.n + 1, c.g) == c.g
    assert ec.point_add(c, c.g, ec.point_neg(c, c.g)) is None
    assert ec.point_add(c, None, c.g) == c.g
    assert ec.point_add(c, c.g, None) == c.g
    assert ec.point_add(c, c.g, c.g) == ec.point_mul(c, 2, c.g)


def test_mul_rejects_points_off_the_curve() -> None:
    c = ec.BRAINPOOL_P256R1
    with pytest.raises(InvalidPointError):
        ec.point_mul(c, 3, (c.g[0], c.g[1] + 1))


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
def test_ecdh_x_matches_pure_multiplication(curve: ec.Curve) -> None:
    rnd = random.Random(curve.param_id)
    a, b = rnd.randrange(1, curve.n), rnd.randrange(1, curve.n)
    pa, pb = ec.point_mul(curve, a, curve.g), ec.point_mul(curve, b, curve.g)
    assert pa is not None and pb is not None
    shared = ec.ecdh_x(curve, a, pb)
    assert shared == ec.ecdh_x(curve, b, pa)
    product = ec.point_mul_pure(curve, a, pb)
    assert product is not None
    assert shared == product[0].to_bytes(curve.byte_len, "big")


def test_ecdh_x_rejects_bad_input() -> None:
    c = ec.NIST_P256
    with pytest.raises(InvalidPointError):
        ec.ecdh_x(c, 5, (1, 1))
    with pytest.raises(InvalidPointError, match="infinity"):
        ec.ecdh_x(c, c.n, c.g)


# --- encoding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_encode_decode_round_trip(curve: ec.Curve, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=1, max_value=curve.n - 1))
    point = ec.point_mul(curve, k, curve.g)
    assert point is not None
    encoded = ec.encode_point(curve, point)
    assert len(encoded) == 1 + 2 * curve.byte_len and encoded[0] == 4
    assert ec.decode_point(curve, encoded) == point


def test_encode_matches_openssl() -> None:
    c = ec.NIST_P521
    key = cec.derive_private_key(12345, cec.SECP521R1()).public_key()
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    assert ec.encode_point(c, openssl_mul_g(c, 12345)) == key.public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint
    )


def _g_encoded(curve: ec.Curve) -> bytes:
    return ec.encode_point(curve, curve.g)


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda c, b: b[:-1], "length"),
        (lambda c, b: b + b"\x00", "length"),
        (lambda c, b: b"\x02" + b[1:], "prefix 02"),
        (lambda c, b: b"\x03" + b[1 : 1 + c.byte_len], "compressed"),
        (lambda c, b: b[:-1] + bytes([b[-1] ^ 1]), "off curve"),
        (lambda c, b: b"\x04" + c.p.to_bytes(c.byte_len, "big") + b[1 + c.byte_len :], "x = p"),
        (lambda c, b: b"\x04" + bytes(2 * c.byte_len), "(0, 0)"),
        (lambda c, b: b"", "empty"),
        (lambda c, b: b"\x00", "infinity encoding"),
    ],
)
def test_decode_rejects(mutate: object, why: str) -> None:
    c = ec.BRAINPOOL_P256R1
    bad = mutate(c, _g_encoded(c))  # type: ignore[operator]
    with pytest.raises(InvalidPointError):
        ec.decode_point(c, bad)


def test_decode_rejects_y_plus_p() -> None:
    c = ec.BRAINPOOL_P256R1  # p ~ 0.66 * 2^256, so y + p fits in 32 bytes for about half the points
    for k in range(1, 200):
        point = ec.point_mul(c, k, c.g)
        assert point is not None
        if point[1] + c.p < 1 << (8 * c.byte_len):
            bad = b"\x04" + point[0].to_bytes(32, "big") + (point[1] + c.p).to_bytes(32, "big")
            with pytest.raises(InvalidPointError):
                ec.decode_point(c, bad)
            return
    pytest.fail("no suitable point found")


def test_encode_rejects_invalid_point() -> None:
    c = ec.NIST_P256
    with pytest.raises(InvalidPointError):
        ec.encode_point(c, (1, 2))


# --- random scalars -------------------------------------------------------------------------------


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
@given(seed=st.binary(min_size=8, max_size=8))
def test_random_scalar_in_range(curve: ec.Curve, seed: bytes) -> None:
    rnd = random.Random(seed)
    k = ec.random_scalar(curve, rnd.randbytes)
    assert 1 <= k <= curve.n - 1


def test_random_scalar_rejects_zero_and_too_large() -> None:
    c = ec.BRAINPOOL_P256R1
    answers = [bytes(32), b"\xff" * 32, (c.n).to_bytes(32, "big"), (5).to_bytes(32, "big")]
    it = iter(answers)
    assert ec.random_scalar(c, lambda n: next(it)) == 5


def test_random_scalar_masks_to_the_order_length() -> None:
    c = ec.NIST_P521  # 66 bytes drawn, top 7 bits masked
    k = ec.random_scalar(c, lambda n: b"\xfe" + bytes(n - 2) + b"\x07")
    assert k == 7


def test_random_scalar_broken_sources() -> None:
    c = ec.NIST_P256
    with pytest.raises(CryptoError, match="keeps returning"):
        ec.random_scalar(c, lambda n: bytes(n))
    with pytest.raises(CryptoError, match="wrong number"):
        ec.random_scalar(c, lambda n: bytes(n - 1))
