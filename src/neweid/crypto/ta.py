"""Terminal Authentication version 2 (BSI TR-03110-2 §3.3, TR-03110-3 B.11): what the terminal signs and
how the chip checks it.

The terminal signs, with the key of its CV certificate::

    ID_PICC ‖ r_PICC ‖ Comp(ephPK_PCD) ‖ A_PCD

- ``ID_PICC``: the chip's identifier, Comp(the chip's ephemeral PACE public key), i.e. its x-coordinate;
- ``r_PICC``: the 8-byte challenge from GET CHALLENGE;
- ``Comp(ephPK_PCD)``: the x-coordinate of the terminal's ephemeral Chip Authentication key, announced
  in MSE:Set AT (tag 91) and bound by CA afterwards;
- ``A_PCD``: the auxiliary data, the complete ``67 {...}`` data object sent in MSE:Set AT (empty if none).

The signature is plain ``r ‖ s`` ECDSA with the hash of the certificate's ``id-TA-ECDSA-SHA-*`` OID
(id-TA-ECDSA-SHA-512 on P-521 in the New eID profile). A terminal's key sits behind
:class:`TerminalSigner`, so an HSM can hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric import ec

from neweid.crypto.cvc import cv_public_key_to_crypto, ecdsa_sign_plain, ecdsa_verify_plain, hash_for_ta_oid
from neweid.crypto.ec import Curve
from neweid.crypto.errors import CryptoError
from neweid.formats.cvc import ID_TA_ECDSA_SHA_512, CvPublicKey, DomainParameters

__all__ = [
    "CHALLENGE_LEN",
    "SoftwareTerminalSigner",
    "TerminalSigner",
    "compress_point",
    "ta_sign",
    "ta_signature_input",
    "ta_verify",
]

CHALLENGE_LEN = 8  # r_PICC


@runtime_checkable
class TerminalSigner(Protocol):
    """The private key of a terminal certificate: a software key or an HSM key."""

    def sign(self, data: bytes) -> bytes:
        """Plain ``r ‖ s`` signature of ``data`` with the TA algorithm of the terminal's certificate."""
        ...

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public key (which must be the one in the terminal certificate)."""
        ...


@dataclass(frozen=True)
class SoftwareTerminalSigner:
    """A :class:`TerminalSigner` holding a pyca/cryptography private key."""

    private_key: ec.EllipticCurvePrivateKey
    oid: str = ID_TA_ECDSA_SHA_512

    def __post_init__(self) -> None:
        hash_for_ta_oid(self.oid)

    def __repr__(self) -> str:  # never show key material
        return f"SoftwareTerminalSigner({self.private_key.curve.name}, {self.oid})"

    def sign(self, data: bytes) -> bytes:
        return ecdsa_sign_plain(self.private_key, data, self.oid)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()


def compress_point(point: bytes) -> bytes:
    """Comp(P) for an uncompressed EC point ``04 ‖ X ‖ Y``: its x-coordinate X (TR-03110-3 A.2.2.3)."""
    data = bytes(point)
    if len(data) < 3 or len(data) % 2 == 0 or data[0] != 0x04:
        raise CryptoError("expected an uncompressed EC point 04 || X || Y")
    return data[1:1 + (len(data) - 1) // 2]


def ta_signature_input(id_picc: bytes, r_picc: bytes, comp_eph_pk_pcd: bytes, aux: bytes = b"") -> bytes:
    """``ID_PICC ‖ r_PICC ‖ Comp(ephPK_PCD) ‖ aux`` (see the module documentation)."""
    if not id_picc:
        raise CryptoError("ID_PICC must not be empty")
    if len(r_picc) != CHALLENGE_LEN:
        raise CryptoError(f"r_PICC has {CHALLENGE_LEN} bytes, not {len(r_picc)}")
    if not comp_eph_pk_pcd:
        raise CryptoError("Comp(ephPK_PCD) must not be empty")
    return bytes(id_picc) + bytes(r_picc) + bytes(comp_eph_pk_pcd) + bytes(aux)


def ta_sign(signer: TerminalSigner, id_picc: bytes, r_picc: bytes, comp_eph_pk_pcd: bytes,
            aux: bytes = b"") -> bytes:
    """The terminal's EXTERNAL AUTHENTICATE data."""
    return signer.sign(ta_signature_input(id_picc, r_picc, comp_eph_pk_pcd, aux))


def ta_verify(terminal_key: CvPublicKey | ec.EllipticCurvePublicKey, signature: bytes, id_picc: bytes,
              r_picc: bytes, comp_eph_pk_pcd: bytes, aux: bytes = b"", *,
              domain: DomainParameters | Curve | None = None, oid: str | None = None) -> None:
    """The chip's check of EXTERNAL AUTHENTICATE: :class:`~neweid.crypto.errors.AuthenticationError` if
    the signature is wrong. ``terminal_key``: the CV public key of the terminal certificate (its curve
    from ``domain``, inherited from the CVCA) or a pyca key (then ``oid`` defaults to
    id-TA-ECDSA-SHA-512)."""
    if isinstance(terminal_key, CvPublicKey):
        public = cv_public_key_to_crypto(terminal_key, domain)
        algorithm = terminal_key.oid if oid is None else oid
    else:
        public, algorithm = terminal_key, ID_TA_ECDSA_SHA_512 if oid is None else oid
    ecdsa_verify_plain(public, ta_signature_input(id_picc, r_picc, comp_eph_pk_pcd, aux), signature,
                       algorithm, "Terminal Authentication signature")
