"""SecurityInfos (TR-03110-3, ICAO 9303-11): published EF.CardAccess files, round trips, rejections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from neweid.formats.errors import FormatError
from neweid.formats.security_infos import (
    ECDSA_WITH_SHA512,
    ID_AA,
    ID_CA_ECDH_AES_CBC_CMAC_256,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    ID_PK_ECDH,
    ID_TA,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfoFormatError,
    TerminalAuthenticationInfo,
    UnknownSecurityInfo,
    decode_security_infos,
    encode_security_infos,
)

VECTORS = Path(__file__).parent / "vectors"
BSI_ECDH = "bsi_eac_worked_example_ecdh.json"
ICAO_G1 = "icao9303_11_g1_pace_ecdh.json"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


ID_PACE_ECDH_GM_AES_CBC_CMAC_128 = "0.4.0.127.0.7.2.2.4.2.2"
_KEY = ec.derive_private_key(7, ec.SECP521R1()).public_key()
SPKI = _KEY.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# --- published EF.CardAccess files --------------------------------------------------------------------


def test_bsi_worked_example_card_access_decodes_to_its_pace_info() -> None:
    vector = load(BSI_ECDH)["pace"]
    card_access = bytes.fromhex(vector["ef_cardaccess"])
    infos = decode_security_infos(card_access)
    pace = [info for info in infos if isinstance(info, PACEInfo)]
    assert pace == [PACEInfo(vector["protocol_oid"], 2, vector["parameter_id"])]
    assert pace[0].protocol == ID_PACE_ECDH_GM_AES_CBC_CMAC_128 and pace[0].parameter_id == 13
    assert TerminalAuthenticationInfo(2) in infos
    assert ChipAuthenticationInfo("0.4.0.127.0.7.2.2.3.2.2", 2, 1) in infos
    unknown = {info.protocol for info in infos if isinstance(info, UnknownSecurityInfo)}
    # CA domain parameters, CardInfo (URL) and PrivilegedTerminalInfo stay opaque
    assert unknown == {"0.4.0.127.0.7.2.2.3.2", "0.4.0.127.0.7.2.2.6", "0.4.0.127.0.7.2.2.8"}
    assert encode_security_infos(infos) == card_access  # DER, byte for byte


def test_icao_9303_11_g1_card_access() -> None:
    vector = load(ICAO_G1)["pace"]
    card_access = bytes.fromhex(vector["ef_cardaccess"])
    assert vector["protocol_oid"] == ID_PACE_ECDH_GM_AES_CBC_CMAC_128
    assert decode_security_infos(card_access) == [PACEInfo(ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 2, 13)]
    assert encode_security_infos([PACEInfo(ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 2, 13)]) == card_access


def test_neweid_card_access_and_card_security_content_byte_for_byte() -> None:
    # PACEInfo { id-PACE-ECDH-GM-AES-CBC-CMAC-256, 2, 18 (NIST P-521) }
    pace = PACEInfo(parameter_id=18)
    assert encode_security_infos([pace]).hex() == "31143012060a04007f00070202040204020102020112"
    aa = ActiveAuthenticationInfo()
    assert (aa.protocol, aa.version, aa.signature_algorithm) == (ID_AA, 1, ECDSA_WITH_SHA512)
    # ActiveAuthenticationInfo { 2.23.136.1.1.5, 1, ecdsa-with-SHA512 }
    assert encode_security_infos([aa]).hex() == "3117301506066781080101050201010608" + "2a8648ce3d040304"
    mixed = [aa, pace, TerminalAuthenticationInfo(), ChipAuthenticationInfo(key_id=1),
             ChipAuthenticationPublicKeyInfo(SPKI, key_id=1)]
    decoded = decode_security_infos(encode_security_infos(mixed))
    assert sorted(map(repr, decoded)) == sorted(map(repr, mixed))
    assert ChipAuthenticationInfo().protocol == ID_CA_ECDH_AES_CBC_CMAC_256
    assert pace.protocol == ID_PACE_ECDH_GM_AES_CBC_CMAC_256


def test_encoding_sorts_the_set_elements() -> None:
    encoded = encode_security_infos([ActiveAuthenticationInfo(), PACEInfo(parameter_id=18)])
    elements = [type(info).__name__ for info in decode_security_infos(encoded)]
    assert elements == ["PACEInfo", "ActiveAuthenticationInfo"]  # 30 12 … sorts before 30 15 …


# --- round trips ----------------------------------------------------------------------------------------

_PACE_OIDS = st.sampled_from([f"0.4.0.127.0.7.2.2.4.{m}.{c}" for m in (1, 2, 3, 4, 6) for c in (1, 2, 3, 4)])
_CA_OIDS = st.sampled_from([f"0.4.0.127.0.7.2.2.3.{m}.{c}" for m in (1, 2) for c in (1, 2, 3, 4)])
_SMALL = st.integers(0, 2**40)

_INFOS: st.SearchStrategy[Any] = st.one_of(
    st.builds(PACEInfo, _PACE_OIDS, st.just(2), st.none() | _SMALL),
    st.builds(ChipAuthenticationInfo, _CA_OIDS, st.sampled_from([1, 2, 3]), st.none() | _SMALL),
    st.builds(ChipAuthenticationPublicKeyInfo, st.just(SPKI), st.just(ID_PK_ECDH), st.none() | _SMALL),
    st.builds(TerminalAuthenticationInfo, st.sampled_from([1, 2])),
    st.builds(ActiveAuthenticationInfo, st.sampled_from([ECDSA_WITH_SHA512, "1.2.840.10045.4.3.2"])),
    st.builds(
        lambda n, payload: UnknownSecurityInfo(
            f"0.4.0.127.0.7.2.2.6.{n}",
            bytes.fromhex(f"30{11 + len(payload) + 2:02x}060904007f0007020206{n:02x}") + b"\x04"
            + bytes([len(payload)]) + payload,
        ),
        st.integers(1, 0x7F), st.binary(max_size=40),
    ),
)


@given(st.lists(_INFOS, max_size=8))
def test_security_infos_round_trip(infos: list[Any]) -> None:
    encoded = encode_security_infos(infos)
    decoded = decode_security_infos(encoded)
    assert sorted(map(repr, decoded)) == sorted(map(repr, infos))
    assert encode_security_infos(decoded) == encoded


# --- rejections ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [
    lambda: PACEInfo(version=1),
    lambda: PACEInfo("0.4.0.127.0.7.2.2.3.2.4"),
    lambda: PACEInfo("0.4.0.127.0.7.2.2.4.2"),
    lambda: PACEInfo(parameter_id=-1),
    lambda: PACEInfo("not an oid"),
    lambda: ChipAuthenticationInfo(version=4),
    lambda: ChipAuthenticationInfo(ID_PACE_ECDH_GM_AES_CBC_CMAC_256),
    lambda: ChipAuthenticationPublicKeyInfo(b"\x04\x01\x00"),
    lambda: ChipAuthenticationPublicKeyInfo(SPKI, protocol=ID_TA),
    lambda: TerminalAuthenticationInfo(3),
    lambda: ActiveAuthenticationInfo(version=2),
    lambda: ActiveAuthenticationInfo("1.2.x"),
    lambda: UnknownSecurityInfo("0.4.0.127.0.7.2.2.6", b"\x30\x00"),
    lambda: UnknownSecurityInfo("0.4.0.127.0.7.2.2.6", bytes.fromhex("3005060104020101")),  # other OID
    lambda: UnknownSecurityInfo("0.4.0.127.0.7.2.2.6", bytes.fromhex("300c060804007f00070202060500ff")),
])
def test_invalid_values_are_rejected(build: Any) -> None:
    with pytest.raises(SecurityInfoFormatError):
        build()


@pytest.mark.parametrize(("data", "message"), [
    ("", "not a SecurityInfos SET"),
    ("3000" "00", "not a SecurityInfos SET"),
    ("3003020101", "not a SecurityInfos SET"),  # a SEQUENCE, not a SET
    ("31143012060a04007f00070202040204020102020112ff", "not a SecurityInfos SET"),  # trailing byte
    # PACEInfo with version 1
    ("31143012060a04007f00070202040204020101020112", "version must be 2"),
    # PACEInfo with an OCTET STRING as version
    ("31143012060a04007f00070202040204040102020112", "not an INTEGER"),
    # ActiveAuthenticationInfo without signatureAlgorithm
    ("310d300b060667810801010502010" + "1", "without signatureAlgorithm"),
    # TerminalAuthenticationInfo v1 with a fileId
    ("3111300f060804007f000702020202010104" + "00", "fileId"),
])
def test_malformed_security_infos_are_rejected(data: str, message: str) -> None:
    with pytest.raises(SecurityInfoFormatError, match=message) as info:
        decode_security_infos(bytes.fromhex(data))
    assert isinstance(info.value, FormatError)


@given(st.binary(max_size=48))
def test_arbitrary_bytes_raise_only_the_format_error(data: bytes) -> None:
    try:
        infos = decode_security_infos(data)
    except SecurityInfoFormatError:
        return
    assert isinstance(infos, list)
    again = decode_security_infos(encode_security_infos(infos))
    assert sorted(map(repr, again)) == sorted(map(repr, infos))  # the same set (DER sorts the SET OF)
