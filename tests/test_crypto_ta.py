"""Terminal Authentication (neweid.crypto.ta): the BSI worked example signature verifies with the key of the
example's terminal certificate; our signer's signatures verify; every input matters."""

from __future__ import annotations

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from neweid.crypto.cvc import CvKey, cv_public_key_from_crypto, verify_cv_chain
from neweid.crypto.ec import BRAINPOOL_P512R1
from neweid.crypto.errors import AuthenticationError, CryptoError
from neweid.crypto.ta import (
    SoftwareTerminalSigner,
    TerminalSigner,
    compress_point,
    ta_sign,
    ta_signature_input,
    ta_verify,
)
from neweid.formats.cvc import ID_TA_ECDSA_SHA_256, ID_TA_ECDSA_SHA_512, decode_cv_certificate
from tests.vectors_loader import BSI_ECDH, group

TA = group(BSI_ECDH, "ta")
PACE = group(BSI_ECDH, "pace")
CA = group(BSI_ECDH, "ca")
ID_PICC = compress_point(PACE.hex("eph_public_key_picc"))
COMP_PCD = compress_point(CA.hex("eph_public_key_pcd"))
R_PICC = TA.hex("nonce_r_picc")


def terminal_key() -> CvKey:
    cvca, dv, terminal = (decode_cv_certificate(TA.hex(n))
                          for n in ("cvca_certificate", "dv_certificate", "terminal_certificate"))
    return verify_cv_chain([dv, terminal], CvKey.from_cvca(cvca))


def example_private_key() -> ec.EllipticCurvePrivateKey:
    """The example's PKCS#8 key has explicit brainpoolP512r1 parameters, which pyca refuses to load;
    the private scalar is read with asn1crypto."""
    info = asn1_keys.PrivateKeyInfo.load(TA.hex("terminal_private_key_pkcs8"))
    scalar = info["private_key"].parsed["private_key"].native
    return ec.derive_private_key(scalar, ec.BrainpoolP512R1())


def test_signature_input_layout() -> None:
    data = ta_signature_input(ID_PICC, R_PICC, COMP_PCD)
    assert data == ID_PICC + R_PICC + COMP_PCD
    assert len(ID_PICC) == 32 and len(COMP_PCD) == 32  # brainpoolP256r1 x-coordinates
    assert ta_signature_input(ID_PICC, R_PICC, COMP_PCD, b"\x67\x00") == data + b"\x67\x00"


def test_worked_example_signature_verifies() -> None:
    key = terminal_key()
    assert key.curve == BRAINPOOL_P512R1
    ta_verify(key.public_key, TA.hex("signature"), ID_PICC, R_PICC, COMP_PCD)
    ta_verify(key.certificate.body.public_key, TA.hex("signature"), ID_PICC, R_PICC, COMP_PCD,  # type: ignore[union-attr]
              domain=key.curve)


@pytest.mark.parametrize("change", ["id_picc", "r_picc", "comp", "aux", "signature", "hash"])
def test_worked_example_signature_binds_every_input(change: str) -> None:
    key = terminal_key().public_key
    args = {"id_picc": ID_PICC, "r_picc": R_PICC, "comp": COMP_PCD, "aux": b""}
    signature, oid = TA.hex("signature"), ID_TA_ECDSA_SHA_512
    if change == "signature":
        signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
    elif change == "hash":
        oid = ID_TA_ECDSA_SHA_256
    elif change == "aux":
        args["aux"] = b"\x67\x00"
    else:
        args[change] = bytes([args[change][0] ^ 0x80]) + args[change][1:]
    with pytest.raises(AuthenticationError, match="Terminal Authentication signature"):
        ta_verify(key, signature, args["id_picc"], args["r_picc"], args["comp"], args["aux"], oid=oid)


def test_example_private_key_matches_its_certificate_and_signs() -> None:
    private = example_private_key()
    key = terminal_key()
    assert cv_public_key_from_crypto(private.public_key(), ID_TA_ECDSA_SHA_512).point == \
        key.certificate.body.public_key.point  # type: ignore[union-attr]
    signer = SoftwareTerminalSigner(private)
    assert isinstance(signer, TerminalSigner)
    signature = ta_sign(signer, ID_PICC, R_PICC, COMP_PCD)
    assert len(signature) == 128
    ta_verify(key.public_key, signature, ID_PICC, R_PICC, COMP_PCD)
    assert str(private.private_numbers().private_value) not in repr(signer)


@given(st.binary(min_size=1, max_size=66), st.binary(min_size=8, max_size=8),
       st.binary(min_size=1, max_size=66), st.binary(max_size=20))
def test_p521_sign_verify_round_trip(id_picc: bytes, r_picc: bytes, comp: bytes, aux: bytes) -> None:
    signer = SoftwareTerminalSigner(P521_KEY)
    signature = ta_sign(signer, id_picc, r_picc, comp, aux)
    assert len(signature) == 132
    ta_verify(signer.public_key(), signature, id_picc, r_picc, comp, aux)


P521_KEY = ec.generate_private_key(ec.SECP521R1())


def test_bad_inputs() -> None:
    with pytest.raises(CryptoError, match="r_PICC"):
        ta_signature_input(ID_PICC, R_PICC[:7], COMP_PCD)
    with pytest.raises(CryptoError, match="ID_PICC"):
        ta_signature_input(b"", R_PICC, COMP_PCD)
    with pytest.raises(CryptoError, match="Comp"):
        ta_signature_input(ID_PICC, R_PICC, b"")
    with pytest.raises(CryptoError, match="uncompressed"):
        compress_point(b"\x02" + bytes(32))
    with pytest.raises(CryptoError, match="unsupported"):
        SoftwareTerminalSigner(P521_KEY, "1.2.3")
    assert compress_point(b"\x04" + b"\x01" * 4 + b"\x02" * 4) == b"\x01" * 4
