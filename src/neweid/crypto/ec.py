"""Elliptic-curve domain parameters and arithmetic for PACE, CA and AA (BSI TR-03110-3 Table 4, TR-03111).

Points are affine ``(x, y)`` tuples of ints; the point at infinity is ``None``. All curves here have
cofactor 1, so every point on a curve lies in the prime-order group.

Scalar multiplication of an arbitrary point (PACE's mapped generator G', the peer's mapping key) runs in
pure Python on Jacobian coordinates with a regular signed fixed window: the scalar is made odd (k or
k + n), recoded into odd digits ±1..±(2^w - 1) (Joye-Tunstall), and every window costs exactly w
doublings and one addition, whatever the scalar. Python integers are not constant-time, so this is
"constant-time in structure" only. Multiplications of the standard generator and x-only ECDH results are
delegated to pyca/cryptography (OpenSSL) for every curve it knows, which is both faster and
constant-time; docs/BENCHMARKS.md has the measurements.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from neweid.crypto.errors import CryptoError, InvalidPointError

_log = logging.getLogger(__name__)

Point = tuple[int, int]
"""An affine EC point; ``None`` stands for the point at infinity where a function allows it."""

_Jacobian = tuple[int, int, int]

_WINDOW = 5  # odd-digit window: 16 precomputed points, one addition per 5 doublings


@dataclass(frozen=True)
class Curve:
    """Short Weierstrass curve y^2 = x^3 + a x + b over GF(p) with generator ``g`` of prime order ``n``."""

    name: str
    p: int
    a: int
    b: int
    g: Point
    n: int
    h: int
    param_id: int | None  # standardised domain parameter ID of TR-03110-3 Table 4
    oid: str

    @property
    def byte_len(self) -> int:
        """Size of a field element (and of a coordinate in an encoded point) in bytes."""
        return (self.p.bit_length() + 7) // 8

    @property
    def order_byte_len(self) -> int:
        """Size of the group order (and of a private key or a signature half) in bytes."""
        return (self.n.bit_length() + 7) // 8


def _curve(name: str, param_id: int, oid: str, *, p: str, a: str, b: str, gx: str, gy: str, n: str) -> Curve:
    """A curve of cofactor 1 from hexadecimal parameters."""
    return Curve(
        name=name,
        p=int(p, 16),
        a=int(a, 16),
        b=int(b, 16),
        g=(int(gx, 16), int(gy, 16)),
        n=int(n, 16),
        h=1,
        param_id=param_id,
        oid=oid,
    )


# Values as printed by `openssl ecparam -name <curve> -param_enc explicit` (FIPS 186-4 and RFC 5639);
# tests/test_crypto_ec.py checks them (primality, generator order, agreement with OpenSSL).
NIST_P192 = _curve(
    "secp192r1",
    8,
    "1.2.840.10045.3.1.1",
    p="FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFF",
    a="FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFC",
    b="64210519E59C80E70FA7E9AB72243049FEB8DEECC146B9B1",
    gx="188DA80EB03090F67CBF20EB43A18800F4FF0AFD82FF1012",
    gy="07192B95FFC8DA78631011ED6B24CDD573F977A11E794811",
    n="FFFFFFFFFFFFFFFFFFFFFFFF99DEF836146BC9B1B4D22831",
)
BRAINPOOL_P192R1 = _curve(
    "brainpoolP192r1",
    9,
    "1.3.36.3.3.2.8.1.1.3",
    p="C302F41D932A36CDA7A3463093D18DB78FCE476DE1A86297",
    a="6A91174076B1E0E19C39C031FE8685C1CAE040E5C69A28EF",
    b="469A28EF7C28CCA3DC721D044F4496BCCA7EF4146FBF25C9",
    gx="C0A0647EAAB6A48753B033C56CB0F0900A2F5C4853375FD6",
    gy="14B690866ABD5BB88B5F4828C1490002E6773FA2FA299B8F",
    n="C302F41D932A36CDA7A3462F9E9E916B5BE8F1029AC4ACC1",
)
NIST_P224 = _curve(
    "secp224r1",
    10,
    "1.3.132.0.33",
    p="FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF000000000000000000000001",
    a="FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFE",
    b="B4050A850C04B3ABF54132565044B0B7D7BFD8BA270B39432355FFB4",
    gx="B70E0CBD6BB4BF7F321390B94A03C1D356C21122343280D6115C1D21",
    gy="BD376388B5F723FB4C22DFE6CD4375A05A07476444D5819985007E34",
    n="FFFFFFFFFFFFFFFFFFFFFFFFFFFF16A2E0B8F03E13DD29455C5C2A3D",
)
BRAINPOOL_P224R1 = _curve(
    "brainpoolP224r1",
    11,
    "1.3.36.3.3.2.8.1.1.5",
    p="D7C134AA264366862A18302575D1D787B09F075797DA89F57EC8C0FF",
    a="68A5E62CA9CE6C1C299803A6C1530B514E182AD8B0042A59CAD29F43",
    b="2580F63CCFE44138870713B1A92369E33E2135D266DBB372386C400B",
    gx="0D9029AD2C7E5CF4340823B2A87DC68C9E4CE3174C1E6EFDEE12C07D",
    gy="58AA56F772C0726F24C6B89E4ECDAC24354B9E99CAA3F6D3761402CD",
    n="D7C134AA264366862A18302575D0FB98D116BC4B6DDEBCA3A5A7939F",
)
NIST_P256 = _curve(
    "secp256r1",
    12,
    "1.2.840.10045.3.1.7",
    p="FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF",
    a="FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC",
    b="5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B",
    gx="6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296",
    gy="4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5",
    n="FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
)
BRAINPOOL_P256R1 = _curve(
    "brainpoolP256r1",
    13,
    "1.3.36.3.3.2.8.1.1.7",
    p="A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377",
    a="7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9",
    b="26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6",
    gx="8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262",
    gy="547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997",
    n="A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7",
)
BRAINPOOL_P320R1 = _curve(
    "brainpoolP320r1",
    14,
    "1.3.36.3.3.2.8.1.1.9",
    p=("D35E472036BC4FB7E13C785ED201E065F98FCFA6F6F40DEF4F92B9EC7893EC28FCD412B1F1B32E27"),
    a=("3EE30B568FBAB0F883CCEBD46D3F3BB8A2A73513F5EB79DA66190EB085FFA9F492F375A97D860EB4"),
    b=("520883949DFDBC42D3AD198640688A6FE13F41349554B49ACC31DCCD884539816F5EB4AC8FB1F1A6"),
    gx=("43BD7E9AFB53D8B85289BCC48EE5BFE6F20137D10A087EB6E7871E2A10A599C710AF8D0D39E20611"),
    gy=("14FDD05545EC1CC8AB4093247F77275E0743FFED117182EAA9C77877AAAC6AC7D35245D1692E8EE1"),
    n=("D35E472036BC4FB7E13C785ED201E065F98FCFA5B68F12A32D482EC7EE8658E98691555B44C59311"),
)
NIST_P384 = _curve(
    "secp384r1",
    15,
    "1.3.132.0.34",
    p=("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFF0000000000000000FFFFFFFF"),
    a=("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFF0000000000000000FFFFFFFC"),
    b=("B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF"),
    gx=("AA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7"),
    gy=("3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F"),
    n=("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973"),
)
BRAINPOOL_P384R1 = _curve(
    "brainpoolP384r1",
    16,
    "1.3.36.3.3.2.8.1.1.11",
    p=("8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123ACD3A729901D1A71874700133107EC53"),
    a=("7BC382C63D8C150C3C72080ACE05AFA0C2BEA28E4FB22787139165EFBA91F90F8AA5814A503AD4EB04A8C7DD22CE2826"),
    b=("04A8C7DD22CE28268B39B55416F0447C2FB77DE107DCD2A62E880EA53EEB62D57CB4390295DBC9943AB78696FA504C11"),
    gx=("1D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10E8E826E03436D646AAEF87B2E247D4AF1E"),
    gy=("8ABE1D7520F9C2A45CB1EB8E95CFD55262B70B29FEEC5864E19C054FF99129280E4646217791811142820341263C5315"),
    n=("8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7CF3AB6AF6B7FC3103B883202E9046565"),
)
BRAINPOOL_P512R1 = _curve(
    "brainpoolP512r1",
    17,
    "1.3.36.3.3.2.8.1.1.13",
    p=(
        "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA703308717D"
        "4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3"
    ),
    a=(
        "7830A3318B603B89E2327145AC234CC594CBDD8D3DF91610A83441CAEA9863BC2D"
        "ED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CA"
    ),
    b=(
        "3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72B"
        "F2C7B9E7C1AC4D77FC94CADC083E67984050B75EBAE5DD2809BD638016F723"
    ),
    gx=(
        "81AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D0098EFF"
        "3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F822"
    ),
    gy=(
        "7DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F8111B2"
        "DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD80892"
    ),
    n=(
        "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA7033087055"
        "3E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069"
    ),
)
NIST_P521 = _curve(
    "secp521r1",
    18,
    "1.3.132.0.35",
    p=(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
    ),
    a=(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC"
    ),
    b=(
        "0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109"
        "E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00"
    ),
    gx=(
        "00C6858E06B70404E9CD9E3ECB662395B4429C648139053FB521F828AF606B4D3D"
        "BAA14B5E77EFE75928FE1DC127A2FFA8DE3348B3C1856A429BF97E7E31C2E5BD66"
    ),
    gy=(
        "011839296A789A3BC0045C8A5FB42C7D1BD998F54449579B446817AFBD17273E66"
        "2C97EE72995EF42640C550B9013FAD0761353C7086A272C24088BE94769FD16650"
    ),
    n=(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409"
    ),
)

CURVES: tuple[Curve, ...] = (
    NIST_P192,
    BRAINPOOL_P192R1,
    NIST_P224,
    BRAINPOOL_P224R1,
    NIST_P256,
    BRAINPOOL_P256R1,
    BRAINPOOL_P320R1,
    NIST_P384,
    BRAINPOOL_P384R1,
    BRAINPOOL_P512R1,
    NIST_P521,
)
"""The standardised EC domain parameters of TR-03110-3 Table 4, in order of their IDs 8..18."""

_BY_PARAM_ID = {c.param_id: c for c in CURVES}
_ALIASES = {
    "p-192": NIST_P192, "prime192v1": NIST_P192, "nist p-192": NIST_P192,
    "p-224": NIST_P224, "nist p-224": NIST_P224,
    "p-256": NIST_P256, "prime256v1": NIST_P256, "nist p-256": NIST_P256,
    "p-384": NIST_P384, "nist p-384": NIST_P384,
    "p-521": NIST_P521, "nist p-521": NIST_P521,
}  # fmt: skip
_BY_NAME = {c.name.lower(): c for c in CURVES} | _ALIASES
_BY_OID = {c.oid: c for c in CURVES}

_CRYPTOGRAPHY_CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    NIST_P192.name: ec.SECP192R1,
    NIST_P224.name: ec.SECP224R1,
    NIST_P256.name: ec.SECP256R1,
    NIST_P384.name: ec.SECP384R1,
    NIST_P521.name: ec.SECP521R1,
    BRAINPOOL_P256R1.name: ec.BrainpoolP256R1,
    BRAINPOOL_P384R1.name: ec.BrainpoolP384R1,
    BRAINPOOL_P512R1.name: ec.BrainpoolP512R1,
}


def curve_by_param_id(param_id: int) -> Curve:
    """The standardised domain parameters with this ID (TR-03110-3 Table 4, 8..18)."""
    try:
        return _BY_PARAM_ID[param_id]
    except KeyError:
        raise CryptoError(f"unknown or unsupported standardised domain parameter ID {param_id}") from None


def curve_by_name(name: str) -> Curve:
    """A curve by its SEC/RFC 5639 name (``secp521r1``, ``brainpoolP256r1``) or NIST name (``P-521``)."""
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        raise CryptoError(f"unknown curve name {name!r}") from None


def curve_by_oid(oid: str) -> Curve:
    """A curve by its named-curve object identifier (dotted string)."""
    try:
        return _BY_OID[oid]
    except KeyError:
        raise CryptoError(f"unknown curve OID {oid}") from None


def has_crypto_curve(curve: Curve) -> bool:
    """Whether pyca/cryptography implements this curve (all but brainpoolP192r1/P224r1/P320r1)."""
    return curve.name in _CRYPTOGRAPHY_CURVES


def crypto_curve(curve: Curve) -> ec.EllipticCurve:
    """The pyca/cryptography curve object for ``curve``; :class:`CryptoError` if it has none."""
    try:
        return _CRYPTOGRAPHY_CURVES[curve.name]()
    except KeyError:
        raise CryptoError(f"pyca/cryptography does not implement {curve.name}") from None


# --- affine helpers -------------------------------------------------------------------------------


def is_on_curve(curve: Curve, p: Point | None) -> bool:
    """Whether ``p`` is a finite point with coordinates in [0, p-1] satisfying the curve equation."""
    if p is None:
        return False
    x, y = p
    q = curve.p
    if not (0 <= x < q and 0 <= y < q):
        return False
    return (y * y - (x * x * x + curve.a * x + curve.b)) % q == 0


def point_neg(curve: Curve, p: Point | None) -> Point | None:
    """-P."""
    if p is None:
        return None
    return (p[0], (-p[1]) % curve.p)


def point_add(curve: Curve, p: Point | None, q: Point | None) -> Point | None:
    """P + Q in affine coordinates (complete: handles infinity, doubling and P + (-P))."""
    if p is None:
        return q
    if q is None:
        return p
    m = curve.p
    x1, y1 = p
    x2, y2 = q
    if x1 == x2:
        if (y1 + y2) % m == 0:
            return None
        lam = (3 * x1 * x1 + curve.a) * pow(2 * y1, -1, m) % m
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, m) % m
    x3 = (lam * lam - x1 - x2) % m
    return (x3, (lam * (x1 - x3) - y1) % m)


def encode_point(curve: Curve, p: Point) -> bytes:
    """Uncompressed encoding ``04 || X || Y``, each coordinate ``curve.byte_len`` bytes (TR-03111 3.2.1)."""
    if p is None or not is_on_curve(curve, p):
        raise InvalidPointError(f"cannot encode a point that is not on {curve.name}")
    n = curve.byte_len
    return b"\x04" + p[0].to_bytes(n, "big") + p[1].to_bytes(n, "big")


def decode_point(curve: Curve, data: bytes) -> Point:
    """Decode an uncompressed point and validate it (length, coordinate range, curve equation)."""
    n = curve.byte_len
    if len(data) != 1 + 2 * n or data[0] != 0x04:
        raise InvalidPointError(
            f"expected an uncompressed {curve.name} point of {1 + 2 * n} bytes starting with 04"
        )
    point = (int.from_bytes(data[1 : 1 + n], "big"), int.from_bytes(data[1 + n :], "big"))
    if not is_on_curve(curve, point):
        raise InvalidPointError(f"point is not on {curve.name} or has out-of-range coordinates")
    return point


def random_scalar(curve: Curve, rng: Callable[[int], bytes]) -> int:
    """A uniformly random private key in [1, n-1], by rejection sampling on ``order_byte_len`` bytes."""
    n_bytes = curve.order_byte_len
    mask = (1 << curve.n.bit_length()) - 1
    for _ in range(256):
        raw = rng(n_bytes)
        if len(raw) != n_bytes:
            raise CryptoError("random source returned the wrong number of bytes")
        k = int.from_bytes(raw, "big") & mask
        if 0 < k < curve.n:
            return k
    raise CryptoError("random source keeps returning out-of-range scalars")


# --- Jacobian arithmetic (X, Y, Z) ~ (X/Z^2, Y/Z^3); Z == 0 is infinity ----------------------------


def _jac_double(curve: Curve, pt: _Jacobian) -> _Jacobian:
    x, y, z = pt
    m = curve.p
    if z == 0 or y == 0:
        return (1, 1, 0)
    yy = y * y % m
    zz = z * z % m
    s = 4 * x * yy % m
    # M = 3 X^2 + a Z^4, which is 3 (X - Z^2)(X + Z^2) when a = -3 (NIST curves)
    a_minus_3 = curve.a == m - 3
    mm = 3 * (x - zz) * (x + zz) % m if a_minus_3 else (3 * x * x + curve.a * zz * zz) % m
    x3 = (mm * mm - 2 * s) % m
    y3 = (mm * (s - x3) - 8 * yy * yy) % m
    z3 = 2 * y * z % m
    return (x3, y3, z3)


def _jac_add_affine(curve: Curve, pt: _Jacobian, q: Point) -> _Jacobian:
    """Mixed addition of a Jacobian point and a finite affine point (exceptional cases handled)."""
    x1, y1, z1 = pt
    m = curve.p
    if z1 == 0:
        return (q[0], q[1], 1)
    z1z1 = z1 * z1 % m
    u2 = q[0] * z1z1 % m
    s2 = q[1] * z1 * z1z1 % m
    hh = (u2 - x1) % m
    r = (s2 - y1) % m
    if hh == 0:
        if r == 0:
            return _jac_double(curve, (q[0], q[1], 1))
        return (1, 1, 0)
    h2 = hh * hh % m
    h3 = hh * h2 % m
    v = x1 * h2 % m
    x3 = (r * r - h3 - 2 * v) % m
    y3 = (r * (v - x3) - y1 * h3) % m
    z3 = z1 * hh % m
    return (x3, y3, z3)


def _to_affine_batch(curve: Curve, pts: list[_Jacobian]) -> list[Point]:
    """Normalise finite Jacobian points with one inversion (Montgomery's trick)."""
    m = curve.p
    prefix = [1]
    for _, _, z in pts:
        prefix.append(prefix[-1] * z % m)
    inv = pow(prefix[-1], -1, m)
    out: list[Point] = [(0, 0)] * len(pts)
    for i in range(len(pts) - 1, -1, -1):
        x, y, z = pts[i]
        zi = inv * prefix[i] % m
        inv = inv * z % m
        zi2 = zi * zi % m
        out[i] = (x * zi2 % m, y * zi2 * zi % m)
    return out


def _recode(k: int, digits: int) -> list[int]:
    """Odd k -> ``digits`` odd signed digits (least significant first), k = sum d_i 2^(w i)."""
    w = _WINDOW
    mask = (1 << (w + 1)) - 1
    out = []
    for _ in range(digits - 1):
        u = (k & mask) - (1 << w)
        out.append(u)
        k = (k - u) >> w
    out.append(k)
    return out


def _mul_pure(curve: Curve, k: int, p: Point) -> Point | None:
    k %= curve.n
    if k == 0:
        return None
    k += curve.n * (1 - (k & 1))  # make k odd without a branch: n is odd and (k + n) P = k P
    bits = curve.n.bit_length() + 1
    digits = _recode(k, -(-bits // _WINDOW))
    # table[i] = (2i + 1) P for i in 0 .. 2^(w-1) - 1
    twice = _to_affine_batch(curve, [_jac_double(curve, (p[0], p[1], 1))])[0]
    jac: list[_Jacobian] = [(p[0], p[1], 1)]
    for _ in range((1 << (_WINDOW - 1)) - 1):
        jac.append(_jac_add_affine(curve, jac[-1], twice))
    table = _to_affine_batch(curve, jac)
    m = curve.p
    top = digits[-1]
    acc: _Jacobian = (table[top >> 1][0], table[top >> 1][1], 1)
    for d in reversed(digits[:-1]):
        for _ in range(_WINDOW):
            acc = _jac_double(curve, acc)
        x, y = table[abs(d) >> 1]
        acc = _jac_add_affine(curve, acc, (x, y if d > 0 else m - y))
    if acc[2] == 0:
        return None
    return _to_affine_batch(curve, [acc])[0]


def point_mul_pure(curve: Curve, k: int, p: Point | None) -> Point | None:
    """k·P with the pure-Python regular-window ladder only (no OpenSSL shortcut)."""
    if p is None:
        return None
    if not is_on_curve(curve, p):
        raise InvalidPointError(f"cannot multiply a point that is not on {curve.name}")
    return _mul_pure(curve, k, p)


def _mul_base_openssl(curve: Curve, k: int) -> Point | None:
    k %= curve.n
    if k == 0:
        return None
    numbers = ec.derive_private_key(k, crypto_curve(curve)).public_key().public_numbers()
    return (numbers.x, numbers.y)


def point_mul(curve: Curve, k: int, p: Point | None) -> Point | None:
    """k·P (k is reduced modulo n). The generator goes through OpenSSL where available."""
    if p is None:
        return None
    if p == curve.g and has_crypto_curve(curve):
        return _mul_base_openssl(curve, k)
    return point_mul_pure(curve, k, p)


def ecdh_x(curve: Curve, private: int, peer: Point) -> bytes:
    """The x-coordinate of private·peer as ``byte_len`` bytes (ECDH, TR-03111 4.3.1).

    Raises :class:`InvalidPointError` if ``peer`` is invalid or the product is the point at infinity.
    """
    if not is_on_curve(curve, peer):
        raise InvalidPointError(f"peer public key is not a point on {curve.name}")
    k = private % curve.n
    if k == 0:
        raise InvalidPointError("ECDH result is the point at infinity")
    if has_crypto_curve(curve):
        cc = crypto_curve(curve)
        try:
            peer_key = ec.EllipticCurvePublicNumbers(peer[0], peer[1], cc).public_key()
            return ec.derive_private_key(k, cc).exchange(ec.ECDH(), peer_key)
        except ValueError as exc:  # OpenSSL refused the key; fall through to a clear error
            raise InvalidPointError(f"ECDH on {curve.name} failed") from exc
    product = _mul_pure(curve, k, peer)
    if product is None:
        raise InvalidPointError("ECDH result is the point at infinity")
    return product[0].to_bytes(curve.byte_len, "big")
