"""Passive Authentication (CARD-4, PKI-4): every failure reason, tampering of any DG byte, and OpenSSL's
independent verification of the SignedData we produce."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neweid.crypto.errors import CryptoError
from neweid.crypto.passive import (
    BadSignatureError,
    ExpiredError,
    HashMismatchError,
    MalformedSecurityObjectError,
    PassiveAuthenticationError,
    PassiveAuthReason,
    UnknownSignerError,
    read_card_security_infos,
    read_lds_security_object,
    verify_card_security,
    verify_zone,
)
from neweid.formats.security_infos import (
    ActiveAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    encode_security_infos,
)
from neweid.formats.security_object import HashAlgorithm, LdsSecurityObject
from neweid.formats.sex import Sex
from neweid.formats.zones import (
    Birthplace,
    CanDG,
    EncryptedZone,
    FatherName,
    MotherName,
    SexDG,
    SpouseName,
)
from neweid.pki.csca import Csca
from neweid.pki.document_signer import DocumentSigner
from neweid.pki.keystore import FileKeyStore
from tests.conftest import require_system_part

NOW = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC)
LATER = NOW + datetime.timedelta(days=30)
GROUPS = EncryptedZone(
    SpouseName("林美玲"), FatherName("陳大文"), MotherName("王𡘙"), Birthplace("臺北市", "63000"),
    SexDG(Sex.MALE), CanDG("123456"),
).to_data_groups()


class Pki:
    def __init__(self, directory: Path, label: str) -> None:
        store = FileKeyStore(directory, b"passive tests")
        self.csca = Csca.create(store, f"{label}-csca", not_before=NOW)
        self.ds = DocumentSigner.create(store, f"{label}-ds", self.csca, not_before=NOW)


@pytest.fixture(scope="module")
def moi(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("moi"), "moi")


@pytest.fixture(scope="module")
def impostor(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Another CSCA with the very same subject name as MOI's."""
    return Pki(tmp_path_factory.mktemp("impostor"), "impostor")


@pytest.fixture(scope="module")
def sod(moi: Pki) -> bytes:
    return moi.ds.sign_zone(GROUPS, signing_time=NOW)


def _mutate(sod: bytes, change: Callable[[Any], None]) -> bytes:
    info = cms.ContentInfo.load(sod)
    signed = info["content"]
    change(signed)
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump(force=True))


# --- success ---------------------------------------------------------------------------------------------


def test_valid_zone_passes(moi: Pki, sod: bytes) -> None:
    result = verify_zone(sod, GROUPS, [moi.csca.certificate], at=LATER)
    assert result.checked_data_groups == (1, 2, 3, 4, 5, 6)
    assert result.missing_data_groups == () and result.complete
    assert result.hash_algorithm is HashAlgorithm.SHA512
    assert result.signer_subject == moi.ds.certificate.subject.rfc4514_string()
    assert result.csca_subject == moi.csca.certificate.subject.rfc4514_string()
    assert result.signing_time == NOW
    assert result.signer_certificate == moi.ds.certificate


def test_data_groups_not_read_are_reported_missing(moi: Pki, sod: bytes) -> None:
    result = verify_zone(sod, {2: GROUPS[2], 5: GROUPS[5]}, [moi.csca.certificate], at=LATER)
    assert result.checked_data_groups == (2, 5)
    assert result.missing_data_groups == (1, 3, 4, 6) and not result.complete


def test_the_right_anchor_is_found_among_several(moi: Pki, impostor: Pki, sod: bytes) -> None:
    anchors = [impostor.csca.certificate, moi.csca.certificate]
    assert verify_zone(sod, GROUPS, anchors, at=LATER).checked_data_groups == (1, 2, 3, 4, 5, 6)


def test_icao_77_wrapper_is_accepted(moi: Pki, sod: bytes) -> None:
    wrapped = b"\x77\x82" + len(sod).to_bytes(2, "big") + sod
    assert verify_zone(wrapped, GROUPS, [moi.csca.certificate], at=LATER).complete


def test_read_lds_security_object_without_verification(sod: bytes) -> None:
    assert read_lds_security_object(sod) == LdsSecurityObject.compute(GROUPS)


# --- HASH_MISMATCH ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", sorted(GROUPS))
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_tampering_any_data_group_names_it(moi: Pki, sod: bytes, number: int, where: str) -> None:
    data = bytearray(GROUPS[number])
    index = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[index] ^= 0x01
    with pytest.raises(HashMismatchError) as info:
        verify_zone(sod, {**GROUPS, number: bytes(data)}, [moi.csca.certificate], at=LATER)
    assert info.value.reason is PassiveAuthReason.HASH_MISMATCH
    assert info.value.data_group == number
    assert str(info.value).startswith(f"DG{number}:")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_tampering_any_byte_of_any_data_group(moi: Pki, sod: bytes, data: st.DataObject) -> None:
    number = data.draw(st.sampled_from(sorted(GROUPS)))
    value = bytearray(GROUPS[number])
    index = data.draw(st.integers(0, len(value) - 1))
    value[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(HashMismatchError) as info:
        verify_zone(sod, {**GROUPS, number: bytes(value)}, [moi.csca.certificate], at=LATER)
    assert info.value.data_group == number


def test_truncated_or_extended_data_group(moi: Pki, sod: bytes) -> None:
    with pytest.raises(HashMismatchError, match="DG4"):
        verify_zone(sod, {**GROUPS, 4: GROUPS[4][:-1]}, [moi.csca.certificate], at=LATER)
    with pytest.raises(HashMismatchError, match="DG4"):
        verify_zone(sod, {**GROUPS, 4: GROUPS[4] + b"\x00"}, [moi.csca.certificate], at=LATER)


def test_data_group_absent_from_the_security_object(moi: Pki, sod: bytes) -> None:
    with pytest.raises(HashMismatchError, match="not covered") as info:
        verify_zone(sod, {**GROUPS, 7: b"\x67\x00"}, [moi.csca.certificate], at=LATER)
    assert info.value.data_group == 7


# --- UNKNOWN_SIGNER ------------------------------------------------------------------------------------


def test_signer_under_another_csca_is_unknown(moi: Pki, impostor: Pki) -> None:
    assert impostor.csca.certificate.subject == moi.csca.certificate.subject  # same name, other key
    forged = impostor.ds.sign_zone(GROUPS, signing_time=NOW)
    with pytest.raises(UnknownSignerError) as info:
        verify_zone(forged, GROUPS, [moi.csca.certificate], at=LATER)
    assert info.value.reason is PassiveAuthReason.UNKNOWN_SIGNER
    with pytest.raises(UnknownSignerError):
        verify_zone(forged, GROUPS, [], at=LATER)


def test_a_non_ca_certificate_is_no_trust_anchor(moi: Pki, sod: bytes) -> None:
    with pytest.raises(UnknownSignerError):
        verify_zone(sod, GROUPS, [moi.ds.certificate], at=LATER)


def test_signer_certificate_may_come_from_outside(moi: Pki, sod: bytes) -> None:
    bare = _mutate(sod, lambda signed: signed.__setitem__("certificates", None))
    with pytest.raises(UnknownSignerError, match="neither"):
        verify_zone(bare, GROUPS, [moi.csca.certificate], at=LATER)
    result = verify_zone(bare, GROUPS, [moi.csca.certificate], at=LATER,
                         document_signers=[moi.ds.certificate])
    assert result.complete


# --- BAD_SIGNATURE ---------------------------------------------------------------------------------------


def _bump_signature(signed: Any) -> None:
    signer_info = signed["signer_infos"][0]
    r, s = decode_dss_signature(signer_info["signature"].native)
    signer_info["signature"] = encode_dss_signature(r + 1, s)


def test_altered_signature_is_bad(moi: Pki, sod: bytes) -> None:
    with pytest.raises(BadSignatureError) as info:
        verify_zone(_mutate(sod, _bump_signature), GROUPS, [moi.csca.certificate], at=LATER)
    assert info.value.reason is PassiveAuthReason.BAD_SIGNATURE


def test_altered_security_object_breaks_the_message_digest(moi: Pki, sod: bytes) -> None:
    forged_lds = LdsSecurityObject.compute({**GROUPS, 6: CanDG("654321").encode()}).encode()

    def swap(signed: Any) -> None:
        signed["encap_content_info"] = {"content_type": "2.23.136.1.1.1", "content": forged_lds}

    forged_groups = {**GROUPS, 6: CanDG("654321").encode()}
    with pytest.raises(BadSignatureError, match="messageDigest"):
        verify_zone(_mutate(sod, swap), forged_groups, [moi.csca.certificate], at=LATER)


def test_altered_signed_attribute_is_bad(moi: Pki, sod: bytes) -> None:
    def backdate(signed: Any) -> None:
        for attribute in signed["signer_infos"][0]["signed_attrs"]:
            if attribute["type"].native == "signing_time":
                attribute["values"] = [cms.Time({"utc_time": NOW - datetime.timedelta(days=1)})]

    with pytest.raises(BadSignatureError):
        verify_zone(_mutate(sod, backdate), GROUPS, [moi.csca.certificate], at=LATER)


# --- EXPIRED ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("at", [
    NOW - datetime.timedelta(seconds=1),  # before the certificates
    datetime.datetime(2036, 6, 1, 8, 0, 1, tzinfo=datetime.UTC),  # Document Signer (10 y 3 m) expired
    datetime.datetime(2042, 1, 1, tzinfo=datetime.UTC),  # CSCA expired too
])
def test_certificates_outside_their_validity(moi: Pki, sod: bytes, at: datetime.datetime) -> None:
    with pytest.raises(ExpiredError) as info:
        verify_zone(sod, GROUPS, [moi.csca.certificate], at=at)
    assert info.value.reason is PassiveAuthReason.EXPIRED


def test_last_second_of_validity_passes(moi: Pki, sod: bytes) -> None:
    end = moi.ds.certificate.not_valid_after_utc
    assert verify_zone(sod, GROUPS, [moi.csca.certificate], at=end).complete


# --- MALFORMED -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("blob", [
    b"", b"\x30\x00", b"garbage", bytes.fromhex("3006060100a00100"),
    bytes.fromhex("300d06092a864886f70d010701"),  # ContentInfo of type id-data
    b"\x77\x05\x30\x00",
])
def test_malformed_security_objects(moi: Pki, blob: bytes) -> None:
    with pytest.raises(MalformedSecurityObjectError) as info:
        verify_zone(blob, GROUPS, [moi.csca.certificate], at=LATER)
    assert info.value.reason is PassiveAuthReason.MALFORMED


def test_truncated_security_object(moi: Pki, sod: bytes) -> None:
    for cut in (1, 10, len(sod) // 2, len(sod) - 1):
        with pytest.raises(MalformedSecurityObjectError):
            verify_zone(sod[:cut], GROUPS, [moi.csca.certificate], at=LATER)


def test_card_security_is_not_a_zone_security_object(moi: Pki) -> None:
    card_security = moi.ds.sign_card_security(encode_security_infos([PACEInfo(parameter_id=18)]),
                                              signing_time=NOW)
    with pytest.raises(MalformedSecurityObjectError, match="eContentType"):
        verify_zone(card_security, GROUPS, [moi.csca.certificate], at=LATER)


def test_naive_time_is_refused(moi: Pki, sod: bytes) -> None:
    with pytest.raises(MalformedSecurityObjectError, match="timezone-aware"):
        verify_zone(sod, GROUPS, [moi.csca.certificate], at=datetime.datetime(2026, 4, 1))  # noqa: DTZ001


def test_errors_belong_to_the_crypto_hierarchy() -> None:
    for cls in (UnknownSignerError, BadSignatureError, ExpiredError, MalformedSecurityObjectError):
        assert issubclass(cls, PassiveAuthenticationError)
        assert issubclass(cls, CryptoError) and issubclass(cls, ValueError)
    assert HashMismatchError(3, "x").reason is PassiveAuthReason.HASH_MISMATCH


# --- EF.CardSecurity -------------------------------------------------------------------------------------


def test_card_security_round_trip(moi: Pki) -> None:
    key = ec.derive_private_key(99, ec.SECP521R1()).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    infos = [PACEInfo(parameter_id=18), ActiveAuthenticationInfo(), ChipAuthenticationPublicKeyInfo(spki)]
    signed = moi.ds.sign_card_security(encode_security_infos(infos), signing_time=NOW)
    result = verify_card_security(signed, [moi.csca.certificate], at=LATER)
    assert sorted(map(repr, result.security_infos)) == sorted(map(repr, infos))
    assert result.signer_subject == moi.ds.certificate.subject.rfc4514_string()


def test_bsi_worked_example_card_security_content() -> None:
    vectors = json.loads((Path(__file__).parent / "vectors" / "bsi_eac_worked_example_ecdh.json").read_text())
    infos = read_card_security_infos(bytes.fromhex(vectors["ca"]["ef_cardsecurity"]))
    keys = [info for info in infos if isinstance(info, ChipAuthenticationPublicKeyInfo)]
    assert len(keys) == 1 and keys[0].key_id == 1
    point = bytes.fromhex(vectors["ca"]["static_public_key_picc"])
    assert keys[0].public_key.endswith(point)  # BIT STRING holding the uncompressed point
    pace = [info for info in infos if isinstance(info, PACEInfo)]
    assert [p.parameter_id for p in pace] == [13]


def test_bsi_card_security_signer_is_not_trusted_here() -> None:
    vectors = json.loads((Path(__file__).parent / "vectors" / "bsi_eac_worked_example_ecdh.json").read_text())
    blob = bytes.fromhex(vectors["ca"]["ef_cardsecurity"])
    with pytest.raises(UnknownSignerError):  # its CSCA is not published with the example
        verify_card_security(blob, [], at=datetime.datetime(2010, 1, 1, tzinfo=datetime.UTC))


# --- independent check by OpenSSL --------------------------------------------------------------------------


def test_openssl_accepts_the_signed_data(moi: Pki, sod: bytes, tmp_path: Path) -> None:
    require_system_part(shutil.which("openssl") is not None, "the openssl command")
    (tmp_path / "csca.pem").write_bytes(moi.csca.certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "sod.der").write_bytes(sod)
    at = str(int(LATER.timestamp()))
    completed = subprocess.run(
        ["openssl", "cms", "-verify", "-CAfile", str(tmp_path / "csca.pem"), "-inform", "DER", "-binary",
         "-in", str(tmp_path / "sod.der"), "-out", str(tmp_path / "content.der"), "-purpose", "any",
         "-attime", at],
        capture_output=True, check=False, timeout=60,
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    assert b"Verification successful" in completed.stderr
    content = (tmp_path / "content.der").read_bytes()
    assert LdsSecurityObject.decode(content) == LdsSecurityObject.compute(GROUPS)

    (tmp_path / "bad.der").write_bytes(_mutate(sod, _bump_signature))
    rejected = subprocess.run(
        ["openssl", "cms", "-verify", "-CAfile", str(tmp_path / "csca.pem"), "-inform", "DER", "-binary",
         "-in", str(tmp_path / "bad.der"), "-out", str(tmp_path / "bad.out"), "-purpose", "any",
         "-attime", at],
        capture_output=True, check=False, timeout=60,
    )
    assert rejected.returncode != 0
