"""The real citizen CA (:mod:`neweid.pki.ca`, issue 5) behind the management system's
:class:`~neweid.server.cards.ca.CitizenCa` interface.

Wire it in with the settings::

    NEWEID_CITIZEN_CA = "neweid.server.cards.pki_ca.from_settings"
    NEWEID_CITIZEN_CA_DIR = "/var/lib/neweid/ca"     # made with `neweid ca init`; keys under DIR/keys,
                                                     # passphrase from NEWEID_KEYSTORE_PASSPHRASE

* ``issue``: each card's four keys (RSA-2048 and P-521, for signing and for encryption) are certified from
  the CSRs the production centre sent with the card's blank chip (stored by the exchange API); the subject
  is the citizen's name and the last four characters of the ID number, with the card serial (the CA keeps
  nothing more). Idempotent: slots already certified for the same keys are not issued again, so a retried
  production step gets the same certificates; certificates of keys the card no longer has (its chip
  assignment was rolled back after the CA answered) are revoked as superseded and the new keys certified.
* ``suspend`` / ``resume`` / ``revoke`` act on every certificate of the card serial, through the RA's
  management-system functions; a certificate already in the target state is left alone (idempotent).

CA refusals become :class:`CitizenCaRefusedError` (C703); a CA that cannot be opened or written,
:class:`~neweid.server.cards.errors.CitizenCaUnavailableError`.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.errors import CaError, Refusal
from neweid.pki.ca.profiles import CertificateUsage, KeyAlgorithm, Subscriber, SubscriberPublicKey, load_csr
from neweid.pki.ca.ra import OfficeRa
from neweid.pki.ca.registry import CertificateRecord, CertificateStatus
from neweid.pki.ca.registry import RevocationReason as CrlReason
from neweid.pki.ca.validity import CardValidity
from neweid.pki.errors import PkiError
from neweid.pki.keystore import FileKeyStore, passphrase_from_environment
from neweid.server.cards.ca import CardRef, CertificateRequest, IssuedCertificate, RevocationReason
from neweid.server.cards.errors import CardCode, CitizenCaUnavailableError
from neweid.server.errors import ConflictError

logger = logging.getLogger(__name__)

OPERATOR = "neweid-management"
#: The four key slots of a card, in the order of :class:`CardCsrs`.
SLOTS = ((CertificateUsage.SIGN, KeyAlgorithm.RSA_2048), (CertificateUsage.ENCRYPT, KeyAlgorithm.RSA_2048),
         (CertificateUsage.SIGN, KeyAlgorithm.EC_P521), (CertificateUsage.ENCRYPT, KeyAlgorithm.EC_P521))
_REASONS = {
    RevocationReason.KEY_COMPROMISE: CrlReason.KEY_COMPROMISE,
    RevocationReason.SUPERSEDED: CrlReason.SUPERSEDED,
    RevocationReason.CESSATION_OF_OPERATION: CrlReason.CESSATION_OF_OPERATION,
    RevocationReason.PRIVILEGE_WITHDRAWN: CrlReason.PRIVILEGE_WITHDRAWN,
}


class CitizenCaRefusedError(ConflictError):
    """The CA refused a request (e.g. a CSR with the wrong key, a card past its certificate period)."""

    code = CardCode.CA_REFUSED
    default_message = _("The citizen certificate authority refused the request; nothing was changed.")

    def __init__(self, refusal: str) -> None:
        self.refusal = refusal
        super().__init__()


@dataclass(frozen=True, repr=False)
class CardCsrs:
    """The CSRs of a card's four on-chip keys (PEM), in the order of :data:`SLOTS`."""

    sign_rsa: bytes
    encrypt_rsa: bytes
    sign_ec: bytes
    encrypt_ec: bytes

    def in_slot_order(self) -> tuple[bytes, bytes, bytes, bytes]:
        return (self.sign_rsa, self.encrypt_rsa, self.sign_ec, self.encrypt_ec)

    def __repr__(self) -> str:
        return "CardCsrs(...)"


def stored_csrs(card_serial: str) -> CardCsrs | None:
    """The CSRs of the blank chip assigned to the card (the production centre's key material)."""
    from neweid.server.exchange.models import BlankChip

    chip = BlankChip.objects.filter(card__serial=card_serial).first()
    if chip is None:
        return None
    return CardCsrs(*(csr.encode("ascii") for csr in chip.csrs()))


def registered_subscriber(card_serial: str) -> Subscriber | None:
    """The subscriber a card's certificates name: the card holder's name and ID-number suffix."""
    from neweid.server.cards.models import Card

    row = (Card.objects.filter(serial=card_serial)
           .values_list("person__surname", "person__given_name", "person__id_number").first())
    if row is None:
        return None
    surname, given_name, id_number = row
    return Subscriber.from_id_number(f"{surname}{given_name}", id_number, card_serial)


class PkiCitizenCa:
    """:class:`~neweid.server.cards.ca.CitizenCa` over a :class:`~neweid.pki.ca.directory.CaDirectory`."""

    def __init__(self, directory: CaDirectory, *, operator: str = OPERATOR,
                 csrs: Callable[[str], CardCsrs | None] = stored_csrs,
                 subscriber: Callable[[str], Subscriber | None] = registered_subscriber) -> None:
        self.directory = directory
        self._ra: OfficeRa = directory.ra.operator(operator)
        self._csrs = csrs
        self._subscriber = subscriber
        self._lock = threading.Lock()

    @contextmanager
    def _calling(self) -> Iterator[None]:
        try:
            with self._lock:
                yield
        except CaError as exc:
            if exc.code is Refusal.STORAGE:
                raise CitizenCaUnavailableError() from exc
            logger.warning("the citizen CA refused a request: %s", exc.code.value)
            raise CitizenCaRefusedError(exc.code.value) from exc
        except PkiError as exc:
            raise CitizenCaUnavailableError() from exc

    def _live(self, card_serial: str) -> list[CertificateRecord]:
        return [r for r in self._ra.certificates_of_card(card_serial)
                if r.status is not CertificateStatus.REVOKED]

    def issue(self, requests: Sequence[CertificateRequest]) -> tuple[IssuedCertificate, ...]:
        issued = []
        with self._calling():
            for request in requests:
                records = self._issue_card(request)
                first = min(records, key=lambda r: r.not_before)
                issued.append(IssuedCertificate(request.card, first.not_before, first.not_after))
        return tuple(issued)

    def _issue_card(self, request: CertificateRequest) -> list[CertificateRecord]:
        serial = request.card.serial
        live = {(r.usage, r.key_algorithm): r for r in self._live(serial)}
        csrs = self._csrs(serial)
        if csrs is None:
            if len(live) == len(SLOTS):
                return list(live.values())
            raise CaError(f"no key material for card {serial}", Refusal.BAD_CSR)
        keys = [load_csr(csr) for csr in csrs.in_slot_order()]
        for (usage, algorithm), key in zip(SLOTS, keys, strict=True):
            if key.algorithm is not algorithm:
                raise CaError(f"the {usage.value} CSR of card {serial} has the wrong key",
                              Refusal.WRONG_KEY_TYPE)
        for slot, key in zip(SLOTS, keys, strict=True):
            # Certified keys of another chip (an assignment rolled back after the CA answered): superseded.
            if slot in live and _spki(_certificate(live[slot]).public_key()) != _spki(key.public_key):
                self._ra.revoke(live.pop(slot).serial, CrlReason.SUPERSEDED)
        if len(live) < len(SLOTS):
            subscriber = self._subscriber(serial)
            if subscriber is None:
                raise CaError(f"no holder for card {serial}", Refusal.BAD_SUBJECT)
            card = CardValidity(request.issue_date, request.renewal_date)
            for (usage, algorithm), csr in zip(SLOTS, csrs.in_slot_order(), strict=True):
                if (usage, algorithm) not in live:
                    live[(usage, algorithm)] = self._ra.issue(csr, subscriber, usage, card).record
        return list(live.values())

    def certificate_pems(self, card_serial: str) -> tuple[str, ...]:
        """The card's certificates not revoked, PEM, in slot order (for the production package)."""
        with self._calling():
            live = {(r.usage, r.key_algorithm): r for r in self._live(card_serial)}
        return tuple(_pem(live[slot]) for slot in SLOTS if slot in live)

    def suspend(self, cards: Sequence[CardRef]) -> None:
        with self._calling():
            for card in cards:
                self._ra.report_loss(card.serial)

    def resume(self, cards: Sequence[CardRef]) -> None:
        with self._calling():
            for card in cards:
                self._ra.withdraw_loss(card.serial)

    def revoke(self, cards: Sequence[CardRef], reason: RevocationReason) -> None:
        code = _REASONS[RevocationReason(reason)]
        with self._calling():
            for card in cards:
                for record in self._live(card.serial):
                    self._ra.revoke(record.serial, code)


def _certificate(record: CertificateRecord) -> x509.Certificate:
    return x509.load_der_x509_certificate(record.der)


def _spki(key: SubscriberPublicKey | CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _pem(record: CertificateRecord) -> str:
    return _certificate(record).public_bytes(serialization.Encoding.PEM).decode("ascii")


_opened: dict[Path, PkiCitizenCa] = {}
_opened_lock = threading.Lock()


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def from_settings() -> PkiCitizenCa:
    """The CA in ``NEWEID_CITIZEN_CA_DIR`` (default ``$NEWEID_HOME/ca``), opened once per process."""
    configured = getattr(settings, "NEWEID_CITIZEN_CA_DIR", "") or Path(settings.DATA_DIR) / "ca"
    directory = Path(configured)
    with _opened_lock:
        ca = _opened.get(directory)
        if ca is None:
            try:
                store = FileKeyStore(directory / "keys", passphrase_from_environment())
                ca = PkiCitizenCa(CaDirectory.open(directory, store, clock=_utc_now))
            except PkiError as exc:
                logger.error("the citizen CA in the configured directory cannot be opened")
                raise CitizenCaUnavailableError() from exc
            _opened[directory] = ca
        return ca


def close_all() -> None:
    """Close the CAs opened by :func:`from_settings` (tests, shutdown)."""
    with _opened_lock:
        for ca in _opened.values():
            ca.directory.close()
        _opened.clear()
