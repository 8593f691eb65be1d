"""A :class:`KeyStore` on a PKCS#11 token (SoftHSM2 in tests, a real HSM in production).

Keys are generated on the token and never leave it: the private key object is ``CKA_TOKEN``,
``CKA_PRIVATE``, ``CKA_SENSITIVE``, not ``CKA_EXTRACTABLE``, usable only for ``CKA_SIGN``; it carries the
store's label as ``CKA_LABEL`` and :func:`key_id` (the first 16 bytes of SHA-256 of the label) as
``CKA_ID``, as does its public key object. The store hashes the message itself and has the token sign the
digest, so the output matches :class:`~neweid.pki.keystore.FileKeyStore` byte for byte in format:

* ECDSA: ``CKM_ECDSA`` over the digest returns ``r || s``, turned into a DER ``ECDSA-Sig-Value``;
* RSA: ``CKM_RSA_PKCS`` over the DER ``DigestInfo`` of the digest (RFC 8017 §9.2), i.e. PKCS#1 v1.5.

Public keys are rebuilt from the public key object (``CKA_EC_PARAMS`` + ``CKA_EC_POINT``, or
``CKA_MODULUS`` + ``CKA_PUBLIC_EXPONENT``).

PKCS#11 login state belongs to the whole application, not to one session: a second ``C_Login`` fails
and ``C_Logout`` logs out every session. So stores on the same token within one process share one
logged-in session (reference counted, guarded by a lock because a session must not be used by two
threads at once); a store that brings a PIN other than the one that logged in is refused.

python-pkcs11 is an optional dependency (``neweid[hsm]``); it is imported only when a store is opened.
The user PIN is never logged and never kept after login (only its SHA-256, to compare stores' PINs).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from neweid.pki.errors import KeyStoreError
from neweid.pki.keystore import (
    Curve,
    FileKeyStore,
    KeyHandle,
    KeyStore,
    PublicKey,
    RsaKeyHandle,
    SignatureAlgorithm,
    check_rsa_key_size,
    passphrase_from_environment,
    rsa_handle,
)

if TYPE_CHECKING:
    import pkcs11

__all__ = [
    "KEYSTORE_DIR_ENV",
    "MODULE_ENV",
    "PIN_ENV",
    "SLOT_ENV",
    "TOKEN_ENV",
    "Pkcs11KeyStore",
    "digest_info",
    "key_id",
    "keystore_from_environment",
]

_log = logging.getLogger(__name__)

MODULE_ENV = "NEWEID_PKCS11_MODULE"
TOKEN_ENV = "NEWEID_PKCS11_TOKEN"  # noqa: S105 - a variable name, not a secret
PIN_ENV = "NEWEID_PKCS11_PIN"
SLOT_ENV = "NEWEID_PKCS11_SLOT"
KEYSTORE_DIR_ENV = "NEWEID_KEYSTORE_DIR"

# DER DigestInfo prefixes of EMSA-PKCS1-v1_5 (RFC 8017 §9.2, note 1), followed by the digest.
_DIGEST_INFO_PREFIX: dict[str, bytes] = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}

_T = TypeVar("_T")


def _load_pkcs11() -> ModuleType:
    try:
        import pkcs11 as module  # optional dependency, imported on use
    except ImportError as exc:
        raise KeyStoreError("python-pkcs11 is not installed (pip install 'neweid[hsm]')") from exc
    return module


def key_id(label: str) -> bytes:
    """The ``CKA_ID`` of the objects labelled ``label``: SHA-256 of the UTF-8 label, first 16 bytes."""
    return hashlib.sha256(label.encode("utf-8")).digest()[:16]


def digest_info(algorithm: hashes.HashAlgorithm, digest: bytes) -> bytes:
    """DER ``DigestInfo`` of ``digest`` (RFC 8017 §9.2) for SHA-256/384/512."""
    prefix = _DIGEST_INFO_PREFIX.get(algorithm.name)
    if prefix is None or len(digest) != algorithm.digest_size:
        raise KeyStoreError(f"no PKCS#1 DigestInfo for {algorithm.name} digest of {len(digest)} bytes")
    return prefix + digest


def _check_label(label: str) -> str:
    if not isinstance(label, str) or not 0 < len(label.encode("utf-8")) <= 64 or not label.isprintable():
        raise KeyStoreError(f"invalid key label {label!r} (1-64 bytes of printable text)")
    return label


def _curve_of(params: bytes) -> Curve:
    try:
        parsed = asn1_keys.ECDomainParameters.load(params, strict=True)
        if parsed.name != "named":
            raise KeyStoreError("explicit EC domain parameters are not supported")
        return Curve(parsed.chosen.native)
    except (ValueError, TypeError) as exc:
        raise KeyStoreError(f"unsupported EC domain parameters on the token: {params.hex()}") from exc


def _ec_point(curve: Curve, value: bytes) -> bytes:
    """The uncompressed point from ``CKA_EC_POINT``: DER OCTET STRING (PKCS#11) or raw (some tokens)."""
    raw_length = 1 + 2 * ((curve.ec_curve().key_size + 7) // 8)
    if len(value) == raw_length and value[:1] == b"\x04":
        return value
    try:
        point = asn1_core.OctetString.load(value, strict=True).native
    except (ValueError, TypeError) as exc:
        raise KeyStoreError("malformed CKA_EC_POINT on the token") from exc
    return bytes(point)


class _SharedLogin:
    """One logged-in R/W session on a token, shared by the stores of this process."""

    _registry: ClassVar[dict[tuple[str, int], _SharedLogin]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, key: tuple[str, int], session: pkcs11.Session, pin_digest: bytes) -> None:
        self.key = key
        self.session = session
        self.pin_digest = pin_digest
        self.users = 0
        self.lock = threading.RLock()

    @classmethod
    def acquire(cls, p11: ModuleType, module: str, token: pkcs11.Token, token_label: str,
                pin: str) -> _SharedLogin:
        key = (module, int(token.slot.slot_id))
        pin_digest = hashlib.sha256(pin.encode("utf-8")).digest()
        with cls._registry_lock:
            shared = cls._registry.get(key)
            if shared is None:
                try:
                    session = token.open(rw=True, user_pin=pin)
                except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange) as exc:
                    raise KeyStoreError(f"wrong user PIN for token {token_label!r}") from exc
                except p11.PinLocked as exc:
                    raise KeyStoreError(f"the user PIN of token {token_label!r} is locked") from exc
                except p11.UserPinNotInitialized as exc:
                    raise KeyStoreError(f"token {token_label!r} has no user PIN yet") from exc
                except p11.UserAlreadyLoggedIn as exc:
                    raise KeyStoreError(f"token {token_label!r} is already logged in by other code") from exc
                except p11.PKCS11Error as exc:
                    reason = type(exc).__name__
                    raise KeyStoreError(f"cannot log in to token {token_label!r}: {reason}") from exc
                shared = cls(key, session, pin_digest)
                cls._registry[key] = shared
            elif not hmac.compare_digest(shared.pin_digest, pin_digest):
                raise KeyStoreError(f"wrong user PIN for token {token_label!r}")
            shared.users += 1
            return shared

    def release(self) -> None:
        with self._registry_lock:
            self.users -= 1
            if self.users > 0:
                return
            self._registry.pop(self.key, None)
            with self.lock:
                try:
                    self.session.close()
                except Exception as exc:  # closing must not raise: the token may be gone
                    _log.warning("closing the PKCS#11 session failed: %s", type(exc).__name__)


@dataclass(frozen=True)
class _TokenKey:
    private: Any  # pkcs11.PrivateKey
    key_type: str  # "EC" or "RSA"


class Pkcs11KeyStore(KeyStore):
    """Keys on the PKCS#11 token ``token_label`` of ``module``, logged in with the user ``pin``.

    ``slot`` (a slot id) picks the token when several carry the same label. The store keeps its session
    open until :meth:`close` (or the end of a ``with`` block).
    """

    def __init__(self, module: str | Path, token_label: str, pin: str, *, slot: int | None = None) -> None:
        if not isinstance(pin, str) or not pin:
            raise KeyStoreError("the user PIN must be a non-empty string")
        if not isinstance(token_label, str) or not token_label:
            raise KeyStoreError("the token label must be a non-empty string")
        self._p11 = _load_pkcs11()
        self._module = os.path.realpath(os.fspath(module))
        self._token_label = token_label
        try:
            library = self._p11.lib(self._module)
        except self._p11.PKCS11Error as exc:
            raise KeyStoreError(f"cannot load the PKCS#11 module {self._module}") from exc
        token = self._find_token(library, token_label, slot)
        self._shared: _SharedLogin | None = _SharedLogin.acquire(self._p11, self._module, token, token_label,
                                                                 pin)
        _log.info("opened PKCS#11 token %r (slot %d)", token_label, self._shared.key[1])

    def _find_token(self, library: Any, token_label: str, slot: int | None) -> pkcs11.Token:
        p11 = self._p11
        try:
            if slot is None:
                return library.get_token(token_label=token_label)  # type: ignore[no-any-return]
            for candidate in library.get_slots(token_present=True):
                if candidate.slot_id == slot:
                    token = candidate.get_token()
                    if token.label != token_label:
                        raise KeyStoreError(f"slot {slot} holds token {token.label!r}, not {token_label!r}")
                    return token  # type: ignore[no-any-return]
        except p11.NoSuchToken as exc:
            raise KeyStoreError(f"no PKCS#11 token labelled {token_label!r}") from exc
        except p11.MultipleTokensReturned as exc:
            raise KeyStoreError(f"several tokens labelled {token_label!r}: choose one by slot") from exc
        except p11.PKCS11Error as exc:
            raise KeyStoreError(f"cannot list the PKCS#11 tokens: {type(exc).__name__}") from exc
        raise KeyStoreError(f"no token present in slot {slot}")

    def __repr__(self) -> str:  # never show the PIN
        return f"Pkcs11KeyStore({self._module!r}, {self._token_label!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Release the session (the token is logged out when the last store on it closes)."""
        shared, self._shared = self._shared, None
        if shared is not None:
            shared.release()

    @property
    def token_label(self) -> str:
        return self._token_label

    @contextmanager
    def _session(self) -> Iterator[pkcs11.Session]:
        shared = self._shared
        if shared is None:
            raise KeyStoreError("the PKCS#11 key store is closed")
        with shared.lock:
            yield shared.session

    def _call(self, what: str, action: Callable[[pkcs11.Session], _T]) -> _T:
        """Run ``action`` on the session; PKCS#11 errors become :class:`KeyStoreError`."""
        with self._session() as session:
            try:
                return action(session)
            except self._p11.PKCS11Error as exc:
                raise KeyStoreError(f"token {self._token_label!r} refused to {what}: "
                                    f"{type(exc).__name__}") from exc

    def _objects(self, session: pkcs11.Session, label: str, object_class: Any) -> list[Any]:
        p11 = self._p11
        attrs = {p11.Attribute.LABEL: label, p11.Attribute.CLASS: object_class}
        return list(session.get_objects(attrs))

    def _one(self, session: pkcs11.Session, label: str, object_class: Any) -> Any:
        found = self._objects(session, _check_label(label), object_class)
        if not found:
            raise KeyStoreError(f"no key labelled {label!r}")
        if len(found) > 1:
            raise KeyStoreError(f"several keys labelled {label!r} on the token")
        return found[0]

    def has_key(self, label: str) -> bool:
        _check_label(label)
        p11 = self._p11
        return self._call("search keys", lambda s: bool(self._objects(s, label, p11.ObjectClass.PRIVATE_KEY)))

    def _generate(self, label: str, key_type: Any, key_length: int | None,
                  public_template: Mapping[Any, Any]) -> None:
        p11 = self._p11
        attr = p11.Attribute
        _check_label(label)

        def generate(session: pkcs11.Session) -> None:
            if self._objects(session, label, p11.ObjectClass.PRIVATE_KEY) or \
                    self._objects(session, label, p11.ObjectClass.PUBLIC_KEY):
                raise KeyStoreError(f"a key labelled {label!r} already exists")
            session.generate_keypair(
                key_type, key_length, store=True, label=label, id=key_id(label),
                capabilities=p11.MechanismFlag.SIGN | p11.MechanismFlag.VERIFY,
                public_template={attr.TOKEN: True, attr.PRIVATE: False, **public_template},
                private_template={attr.TOKEN: True, attr.PRIVATE: True, attr.SENSITIVE: True,
                                  attr.EXTRACTABLE: False, attr.SIGN: True, attr.DECRYPT: False,
                                  attr.UNWRAP: False, attr.DERIVE: False},
            )

        self._call("generate a key", generate)

    def generate_ec_key(self, label: str, curve: Curve = Curve.P521) -> KeyHandle:
        curve = Curve(curve)
        params = asn1_keys.ECDomainParameters({"named": curve.value}).dump()
        self._generate(label, self._p11.KeyType.EC, None, {self._p11.Attribute.EC_PARAMS: params})
        _log.info("generated %s key %r on token %r", curve.name, label, self._token_label)
        return self.handle(label)

    def generate_rsa_key(self, label: str, bits: int = 2048) -> RsaKeyHandle:
        self._generate(label, self._p11.KeyType.RSA, check_rsa_key_size(bits), {})
        _log.info("generated RSA-%d key %r on token %r", bits, label, self._token_label)
        return rsa_handle(label, self.verifying_key(label))

    def verifying_key(self, label: str) -> PublicKey:
        attr = self._p11.Attribute
        key_type = self._p11.KeyType

        def read(session: pkcs11.Session) -> PublicKey:
            public = self._one(session, label, self._p11.ObjectClass.PUBLIC_KEY)
            if public.key_type == key_type.EC:
                values = public.get_attributes([attr.EC_PARAMS, attr.EC_POINT])
                curve = _curve_of(bytes(values[attr.EC_PARAMS]))
                point = _ec_point(curve, bytes(values[attr.EC_POINT]))
                try:
                    return ec.EllipticCurvePublicKey.from_encoded_point(curve.ec_curve(), point)
                except ValueError as exc:
                    raise KeyStoreError(f"the token's public key {label!r} is not a valid point") from exc
            if public.key_type == key_type.RSA:
                values = public.get_attributes([attr.MODULUS, attr.PUBLIC_EXPONENT])
                modulus = int.from_bytes(values[attr.MODULUS], "big")
                exponent = int.from_bytes(values[attr.PUBLIC_EXPONENT], "big")
                try:
                    return rsa.RSAPublicNumbers(exponent, modulus).public_key()
                except ValueError as exc:
                    raise KeyStoreError(f"the token's public key {label!r} is not a valid RSA key") from exc
            raise KeyStoreError(f"key {label!r} is neither an EC nor an RSA key")

        return self._call("read a public key", read)

    def public_key(self, label: str) -> ec.EllipticCurvePublicKey:
        key = self.verifying_key(label)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise KeyStoreError(f"key {label!r} is not an EC key")
        return key

    def sign(self, label: str, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        algorithm = SignatureAlgorithm(algorithm)
        if not isinstance(data, bytes | bytearray):
            raise KeyStoreError("the data to sign must be bytes")
        hasher = hashes.Hash(algorithm.hash())
        hasher.update(bytes(data))
        digest = hasher.finalize()
        p11 = self._p11

        def sign(session: pkcs11.Session) -> bytes:
            private = self._one(session, label, p11.ObjectClass.PRIVATE_KEY)
            if algorithm.is_rsa and private.key_type == p11.KeyType.RSA:
                encoded = digest_info(algorithm.hash(), digest)
                return bytes(private.sign(encoded, mechanism=p11.Mechanism.RSA_PKCS))
            if not algorithm.is_rsa and private.key_type == p11.KeyType.EC:
                raw = bytes(private.sign(digest, mechanism=p11.Mechanism.ECDSA))
                half = len(raw) // 2
                if not raw or len(raw) % 2:
                    raise KeyStoreError(f"token returned a malformed ECDSA signature for {label!r}")
                r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
                return encode_dss_signature(r, s)
            raise KeyStoreError(f"key {label!r} cannot sign with {algorithm.value}")

        return self._call("sign", sign)


def keystore_from_environment(
    environ: Mapping[str, str] | None = None,
    *,
    directory: Path | None = None,
) -> KeyStore:
    """The key store the environment asks for.

    With ``NEWEID_PKCS11_MODULE`` set: a :class:`Pkcs11KeyStore` on ``NEWEID_PKCS11_TOKEN`` with the user
    PIN ``NEWEID_PKCS11_PIN`` (optional slot id ``NEWEID_PKCS11_SLOT``). Otherwise a :class:`FileKeyStore`
    in ``directory`` (default ``NEWEID_KEYSTORE_DIR``) with :func:`passphrase_from_environment`.
    """
    env = os.environ if environ is None else environ
    module = env.get(MODULE_ENV, "")
    if module:
        token = env.get(TOKEN_ENV, "")
        pin = env.get(PIN_ENV, "")
        if not token or not pin:
            raise KeyStoreError(f"{MODULE_ENV} is set: {TOKEN_ENV} and {PIN_ENV} must be set too")
        slot_text = env.get(SLOT_ENV, "")
        try:
            slot = int(slot_text) if slot_text else None
        except ValueError as exc:
            raise KeyStoreError(f"{SLOT_ENV} must be a slot number, not {slot_text!r}") from exc
        return Pkcs11KeyStore(module, token, pin, slot=slot)
    if directory is None:
        location = env.get(KEYSTORE_DIR_ENV, "")
        if not location:
            raise KeyStoreError(f"no key store configured: set {MODULE_ENV} or {KEYSTORE_DIR_ENV}")
        directory = Path(location)
    return FileKeyStore(directory, passphrase_from_environment(env))
