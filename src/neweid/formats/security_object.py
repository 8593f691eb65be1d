"""ICAO 9303-10 LDSSecurityObject: the data-group hashes a zone's security object (EF.SOD) signs.

::

    LDSSecurityObject ::= SEQUENCE {
        version            LDSSecurityObjectVersion,   -- v0(0); v1(1) adds ldsVersionInfo
        hashAlgorithm      DigestAlgorithmIdentifier,
        dataGroupHashValues SEQUENCE SIZE (2..ub-DataGroups) OF DataGroupHash,
        ldsVersionInfo     LDSVersionInfo OPTIONAL }
    DataGroupHash ::= SEQUENCE { dataGroupNumber INTEGER (0..16), dataGroupHashValue OCTET STRING }

Profile (docs/protocol-profile.md): version 0, SHA-512, one security object per zone. Deviation from
ICAO: a zone may hold a single data group (the household zone has only DG1), so 1..16 hashes are allowed.

The security object travels as the eContent of a CMS SignedData (RFC 5652) with eContentType
:data:`ID_LDS_SECURITY_OBJECT`; EF.CardSecurity carries SecurityInfos under :data:`ID_SECURITY_OBJECT`
(TR-03110-3). Signing lives in ``neweid.pki.document_signer``, verification in ``neweid.crypto.passive``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from asn1crypto import algos, core
from cryptography.hazmat.primitives import hashes

from neweid.formats.errors import FormatError

__all__ = [
    "ID_LDS_SECURITY_OBJECT",
    "ID_SECURITY_OBJECT",
    "MAX_DATA_GROUP",
    "DataGroupHash",
    "HashAlgorithm",
    "LdsSecurityObject",
    "SecurityObjectFormatError",
]

ID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"  # id-icao-mrtd-security-ldsSecurityObject
ID_SECURITY_OBJECT = "0.4.0.127.0.7.3.2.1"  # bsi-de id-SecurityObject (EF.CardSecurity)
MAX_DATA_GROUP = 16  # ub-DataGroups


class SecurityObjectFormatError(FormatError):
    """An LDSSecurityObject that cannot be encoded or decoded."""


class HashAlgorithm(StrEnum):
    """Digest algorithms of a security object; the value is the asn1crypto name."""

    SHA1 = "sha1"
    SHA224 = "sha224"
    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"

    @property
    def oid(self) -> str:
        return str(algos.DigestAlgorithmId(self.value).dotted)

    @property
    def digest_size(self) -> int:
        return self.hash().digest_size

    def hash(self) -> hashes.HashAlgorithm:
        """The pyca/cryptography hash object."""
        return _HASHES[self]()

    def digest(self, data: bytes) -> bytes:
        h = hashes.Hash(self.hash())
        h.update(data)
        return h.finalize()

    @classmethod
    def from_oid(cls, oid: str) -> HashAlgorithm:
        for algorithm in cls:
            if algorithm.oid == oid:
                return algorithm
        raise SecurityObjectFormatError(f"unsupported hash algorithm {oid}")


_HASHES: dict[HashAlgorithm, type[hashes.HashAlgorithm]] = {
    HashAlgorithm.SHA1: hashes.SHA1,
    HashAlgorithm.SHA224: hashes.SHA224,
    HashAlgorithm.SHA256: hashes.SHA256,
    HashAlgorithm.SHA384: hashes.SHA384,
    HashAlgorithm.SHA512: hashes.SHA512,
}


# --- ASN.1 -------------------------------------------------------------------------------------------


class _DataGroupHash(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class _DataGroupHashes(core.SequenceOf):  # type: ignore[misc]
    _child_spec = _DataGroupHash


class _LdsVersionInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class _LdsSecurityObject(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", _DataGroupHashes),
        ("lds_version_info", _LdsVersionInfo, {"optional": True}),
    ]


# --- values ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataGroupHash:
    number: int
    digest: bytes

    def __post_init__(self) -> None:
        if type(self.number) is not int or not 1 <= self.number <= MAX_DATA_GROUP:
            raise SecurityObjectFormatError(f"data group number {self.number!r} not in 1..{MAX_DATA_GROUP}")
        if not isinstance(self.digest, bytes):
            raise SecurityObjectFormatError(f"DG{self.number} hash must be bytes")


@dataclass(frozen=True)
class LdsSecurityObject:
    """Version-0 LDSSecurityObject; ``hashes`` sorted by data-group number, each number once."""

    hash_algorithm: HashAlgorithm
    hashes: tuple[DataGroupHash, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.hash_algorithm, HashAlgorithm):
            raise SecurityObjectFormatError("hash_algorithm must be a HashAlgorithm")
        if not 1 <= len(self.hashes) <= MAX_DATA_GROUP:
            raise SecurityObjectFormatError(f"a security object holds 1..{MAX_DATA_GROUP} data-group hashes")
        numbers = [h.number for h in self.hashes]
        if numbers != sorted(set(numbers)):
            raise SecurityObjectFormatError("data-group hashes must be in ascending order, each DG once")
        size = self.hash_algorithm.digest_size
        for h in self.hashes:
            if len(h.digest) != size:
                raise SecurityObjectFormatError(
                    f"DG{h.number} hash has {len(h.digest)} bytes, {self.hash_algorithm.name} has {size}"
                )

    @classmethod
    def compute(
        cls, data_groups: Mapping[int, bytes], algorithm: HashAlgorithm = HashAlgorithm.SHA512
    ) -> LdsSecurityObject:
        """Hash every data-group file (its complete bytes, outer tag included)."""
        return cls(algorithm, tuple(
            DataGroupHash(number, algorithm.digest(bytes(data_groups[number])))
            for number in sorted(data_groups)
        ))

    def as_dict(self) -> dict[int, bytes]:
        return {h.number: h.digest for h in self.hashes}

    def encode(self) -> bytes:
        value = _LdsSecurityObject({
            "version": 0,
            "hash_algorithm": {"algorithm": self.hash_algorithm.value},
            "data_group_hash_values": [
                {"data_group_number": h.number, "data_group_hash_value": h.digest} for h in self.hashes
            ],
        })
        return bytes(value.dump(force=True))

    @classmethod
    def decode(cls, data: bytes) -> LdsSecurityObject:
        """Decode a version-0 or version-1 LDSSecurityObject (ldsVersionInfo is ignored)."""
        try:
            parsed: Any = _LdsSecurityObject.load(bytes(data), strict=True)
            version = parsed["version"].native
            oid = parsed["hash_algorithm"]["algorithm"].dotted
            params = parsed["hash_algorithm"]["parameters"]
            entries = [
                (entry["data_group_number"].native, bytes(entry["data_group_hash_value"].native))
                for entry in parsed["data_group_hash_values"]
            ]
            parsed["lds_version_info"].native  # noqa: B018 - forces a full parse
        except (ValueError, TypeError, KeyError) as exc:
            raise SecurityObjectFormatError(f"not an LDSSecurityObject: {exc}") from exc
        if version not in (0, 1):
            raise SecurityObjectFormatError(f"unsupported LDSSecurityObject version {version}")
        if not isinstance(params, core.Void) and not isinstance(params, core.Null):
            raise SecurityObjectFormatError("hash algorithm parameters must be absent or NULL")
        algorithm = HashAlgorithm.from_oid(oid)
        return cls(algorithm, tuple(DataGroupHash(number, digest) for number, digest in entries))
