"""LDSSecurityObject (ICAO 9303-10 §4.6.2.2): DER byte for byte, round trips and rejections."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.formats.errors import FormatError
from neweid.formats.security_object import (
    ID_LDS_SECURITY_OBJECT,
    ID_SECURITY_OBJECT,
    DataGroupHash,
    HashAlgorithm,
    LdsSecurityObject,
    SecurityObjectFormatError,
)

# FIPS 180-2 appendix C.1: SHA-512("abc")
SHA512_ABC = bytes.fromhex(
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
)
# FIPS 180-2 appendix B.1: SHA-256("abc")
SHA256_ABC = bytes.fromhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
SHA512_OID_DER = "0609608648016503040203"  # 2.16.840.1.101.3.4.2.3
H64 = bytes(64)


def _der(version: int, algorithm: str, entries: list[tuple[int, bytes]], extra: str = "") -> bytes:
    def tlv(tag: str, body: str) -> str:
        n = len(body) // 2
        length = f"{n:02x}" if n < 0x80 else f"81{n:02x}" if n < 0x100 else f"82{n:04x}"
        return tag + length + body

    hashes = "".join(tlv("30", f"0201{n:02x}" + tlv("04", d.hex())) for n, d in entries)
    return bytes.fromhex(tlv("30", f"0201{version:02x}" + algorithm + tlv("30", hashes) + extra))


def test_constants() -> None:
    assert ID_LDS_SECURITY_OBJECT == "2.23.136.1.1.1"
    assert ID_SECURITY_OBJECT == "0.4.0.127.0.7.3.2.1"
    assert HashAlgorithm.SHA512.oid == "2.16.840.1.101.3.4.2.3"


def test_compute_hashes_dg_files_with_sha512_and_encodes_der() -> None:
    lds = LdsSecurityObject.compute({2: b"abc", 1: b"abc"})
    assert lds.hash_algorithm is HashAlgorithm.SHA512
    assert lds.as_dict() == {1: SHA512_ABC, 2: SHA512_ABC}
    expected = _der(0, "300d" + SHA512_OID_DER + "0500", [(1, SHA512_ABC), (2, SHA512_ABC)])
    assert lds.encode() == expected
    assert LdsSecurityObject.decode(expected) == lds


def test_single_data_group_zone_is_allowed() -> None:
    lds = LdsSecurityObject.compute({1: b"abc"}, HashAlgorithm.SHA256)
    assert lds.hashes == (DataGroupHash(1, SHA256_ABC),)
    assert LdsSecurityObject.decode(lds.encode()) == lds


def test_decoding_accepts_absent_parameters_and_version_1() -> None:
    absent = _der(0, "300b" + SHA512_OID_DER, [(1, SHA512_ABC)])
    assert LdsSecurityObject.decode(absent).as_dict() == {1: SHA512_ABC}
    # v1 with LDSVersionInfo { "0108", "040000" }
    v1 = _der(1, "300d" + SHA512_OID_DER + "0500", [(1, SHA512_ABC)],
              extra="300e1304" + b"0108".hex() + "1306" + b"040000".hex())
    assert LdsSecurityObject.decode(v1).as_dict() == {1: SHA512_ABC}


@given(
    st.sampled_from(HashAlgorithm),
    st.dictionaries(st.integers(1, 16), st.binary(max_size=64), min_size=1, max_size=16),
)
def test_round_trip(algorithm: HashAlgorithm, groups: dict[int, bytes]) -> None:
    lds = LdsSecurityObject.compute(groups, algorithm)
    assert sorted(lds.as_dict()) == sorted(groups)
    assert all(len(h.digest) == algorithm.digest_size for h in lds.hashes)
    decoded = LdsSecurityObject.decode(lds.encode())
    assert decoded == lds
    assert decoded.encode() == lds.encode()


@pytest.mark.parametrize("build", [
    lambda: DataGroupHash(0, bytes(64)),
    lambda: DataGroupHash(17, bytes(64)),
    lambda: DataGroupHash(1, "not bytes"),
    lambda: LdsSecurityObject(HashAlgorithm.SHA512, ()),
    lambda: LdsSecurityObject(HashAlgorithm.SHA512, (DataGroupHash(1, bytes(32)),)),
    lambda: LdsSecurityObject(HashAlgorithm.SHA512, (DataGroupHash(2, H64), DataGroupHash(1, H64))),
    lambda: LdsSecurityObject(HashAlgorithm.SHA512, (DataGroupHash(1, H64), DataGroupHash(1, H64))),
    lambda: LdsSecurityObject("sha512", (DataGroupHash(1, bytes(64)),)),
])
def test_invalid_values_are_rejected(build: Any) -> None:
    with pytest.raises(SecurityObjectFormatError):
        build()


_ALG = "300d" + SHA512_OID_DER + "0500"


@pytest.mark.parametrize(("data", "message"), ids=[
    "empty", "trailing", "truncated", "version", "digest-size", "md5", "parameters", "dg17", "order", "none",
], argvalues=[
    (b"", "not an LDSSecurityObject"),
    (_der(0, _ALG, [(1, SHA512_ABC)]) + b"\x00", "not an LDSSecurityObject"),
    (_der(0, _ALG, [(1, SHA512_ABC)])[:-1], "not an LDSSecurityObject"),
    (_der(2, _ALG, [(1, SHA512_ABC)]), "unsupported LDSSecurityObject version 2"),
    (_der(0, "300b0609608648016503040201" + "", [(1, SHA512_ABC)]), "has 64 bytes, SHA256 has 32"),
    (_der(0, "300a06082a864886f70d0205", [(1, SHA512_ABC)]), "unsupported hash algorithm"),  # MD5
    (_der(0, "3010" + SHA512_OID_DER + "0403000000", [(1, SHA512_ABC)]), "not an LDSSecurityObject"),
    (_der(0, _ALG, [(17, SHA512_ABC)]), "not in 1..16"),
    (_der(0, _ALG, [(3, SHA512_ABC), (2, SHA512_ABC)]), "ascending order"),
    (_der(0, _ALG, []), "1..16 data-group hashes"),
])
def test_malformed_encodings_are_rejected(data: bytes, message: str) -> None:
    with pytest.raises(SecurityObjectFormatError, match=message) as info:
        LdsSecurityObject.decode(data)
    assert isinstance(info.value, FormatError)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_the_format_error(data: bytes) -> None:
    try:
        lds = LdsSecurityObject.decode(data)
    except SecurityObjectFormatError:
        return
    assert LdsSecurityObject.decode(lds.encode()) == lds
