"""Certificate lifecycle actions of the citizen CA: issue, suspend, resume, revoke, reissue, rewrite,
status, publication status and contact changes (PKI-1, PKI-3).

Each public method is one action: it checks the request, changes the registry, notifies status listeners
(the in-process OCSP cache) and writes one audit event — also when it refuses, with the refusal code.
The RA facades in :mod:`neweid.pki.ca.ra` decide *who* may call which action.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from neweid.pki.ca.audit import Actor, AuditAction, AuditEvent, AuditSink, Outcome
from neweid.pki.ca.errors import CaError, CsrError, LifecycleError, Refusal
from neweid.pki.ca.hierarchy import CaHierarchy
from neweid.pki.ca.oids import ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES
from neweid.pki.ca.profiles import (
    CertificateUsage,
    Subscriber,
    load_csr,
    random_serial,
    read_card_serial,
    subscriber_certificate_builder,
)
from neweid.pki.ca.registry import CertificateRecord, CertificateStatus, Registry, RevocationReason
from neweid.pki.ca.validity import CardValidity, ValidityPeriod, first_period, reissue_period
from neweid.pki.errors import PkiError
from neweid.pki.x509util import sign_certificate

__all__ = ["REVOCATION_REASONS", "CitizenCa", "IssuedCertificate", "subscriber_of"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

#: Reasons a certificate may be revoked with (hold and removeFromCRL belong to suspend / resume).
REVOCATION_REASONS = frozenset(RevocationReason) - {RevocationReason.CERTIFICATE_HOLD,
                                                     RevocationReason.REMOVE_FROM_CRL}


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class IssuedCertificate:
    certificate: x509.Certificate
    record: CertificateRecord

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def subscriber_of(certificate: x509.Certificate) -> Subscriber:
    """The :class:`Subscriber` a citizen certificate names (name, ID suffix and card serial)."""
    try:
        name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        last4 = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
        ext = certificate.extensions.get_extension_for_oid(ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES).value
        raw = ext.value if isinstance(ext, x509.UnrecognizedExtension) else b""
    except (IndexError, x509.ExtensionNotFound) as exc:
        raise CsrError("not a citizen certificate of this profile", Refusal.BAD_SUBJECT) from exc
    return Subscriber(str(name), str(last4), read_card_serial(raw))


class CitizenCa:
    """The issuing CA's actions over a :class:`Registry`, audited to an :class:`AuditSink`."""

    def __init__(
        self,
        hierarchy: CaHierarchy,
        registry: Registry,
        audit: AuditSink,
        *,
        clock: Callable[[], datetime.datetime] = _utc_now,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.hierarchy = hierarchy
        self.registry = registry
        self.audit = audit
        self._clock = clock
        self._rng = rng
        self._lock = threading.RLock()
        self._listeners: list[Callable[[int], None]] = []

    def now(self) -> datetime.datetime:
        return self._clock().astimezone(datetime.UTC).replace(microsecond=0)

    def add_status_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(serial)`` after every status change (e.g. to drop a cached OCSP response)."""
        self._listeners.append(listener)

    # -- plumbing ---------------------------------------------------------------------------------------

    def _audited(
        self, action: AuditAction, actor: Actor, serials: tuple[int, ...], run: Callable[[], T],
        *, reason: str | None = None,
    ) -> T:
        try:
            with self._lock:
                result = run()
        except CaError as exc:
            self.audit.record(AuditEvent(self.now(), action, Outcome.REFUSED, actor, serials, reason,
                                         exc.code.value))
            raise
        done = serials
        if isinstance(result, IssuedCertificate):
            done = (*serials, result.record.serial)
        self.audit.record(AuditEvent(self.now(), action, Outcome.DONE, actor, done, reason))
        return result

    def _notify(self, serial: int) -> None:
        for listener in self._listeners:
            listener(serial)

    def _sign(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        try:
            return sign_certificate(builder, self.hierarchy.issuing_signer)
        except PkiError as exc:
            raise CaError(f"the CA could not sign: {exc}", Refusal.STORAGE) from exc

    def _issue(
        self,
        csr: bytes,
        subscriber: Subscriber,
        usage: CertificateUsage,
        card: CardValidity,
        period: ValidityPeriod,
        *,
        reissue_count: int = 0,
        replaces: int | None = None,
        contact_email: str | None = None,
        contact_phone: str | None = None,
        published: bool = True,
        expect_algorithm: str | None = None,
    ) -> IssuedCertificate:
        key = load_csr(csr)
        if expect_algorithm is not None and key.algorithm.value != expect_algorithm:
            raise CsrError(f"the new key must be {expect_algorithm}, like the certificate it replaces",
                           Refusal.WRONG_KEY_TYPE)
        issuer = self.hierarchy.issuing
        if period.not_after > issuer.not_valid_after_utc:
            raise CaError("the issuing CA certificate ends before the requested validity",
                          Refusal.CARD_EXPIRED)
        serial = random_serial(self._rng)
        builder = subscriber_certificate_builder(key=key, subscriber=subscriber, usage=usage, period=period,
                                                 issuer=issuer, urls=self.hierarchy.urls, serial=serial)
        certificate = self._sign(builder)
        record = CertificateRecord(
            serial=serial, subject=certificate.subject.rfc4514_string(), card_serial=subscriber.card_serial,
            usage=usage, key_algorithm=key.algorithm, not_before=period.not_before,
            not_after=period.not_after, card=card, reissue_count=reissue_count, replaces=replaces,
            contact_email=contact_email, contact_phone=contact_phone, published=published,
            der=certificate.public_bytes(serialization.Encoding.DER),
        )
        self.registry.add(record)
        _log.info("issued citizen certificate %x (%s, %s)", serial, usage.value, key.algorithm.value)
        return IssuedCertificate(certificate, record)

    # -- actions ----------------------------------------------------------------------------------------

    def issue(
        self,
        csr: bytes,
        subscriber: Subscriber,
        usage: CertificateUsage,
        card: CardValidity,
        *,
        actor: Actor,
        not_after: datetime.datetime | None = None,
        contact_email: str | None = None,
        contact_phone: str | None = None,
    ) -> IssuedCertificate:
        """Issue a certificate for the key in ``csr`` (first issue for this card slot)."""
        def run() -> IssuedCertificate:
            usage_ = CertificateUsage(usage)
            algorithm = load_csr(csr).algorithm
            for other in self.registry.by_card(subscriber.card_serial):
                if (other.usage is usage_ and other.key_algorithm is algorithm
                        and other.status is not CertificateStatus.REVOKED):
                    raise LifecycleError(
                        f"the card already has a {usage_.value} {algorithm.value} certificate "
                        f"({other.serial:x}); reissue or revoke it instead", Refusal.DUPLICATE)
            period = first_period(card, now=self.now(), not_after=not_after)
            return self._issue(csr, subscriber, usage_, card, period, contact_email=_email(contact_email),
                               contact_phone=_phone(contact_phone))
        return self._audited(AuditAction.ISSUE, actor, (), run)

    def suspend(self, serial: int, *, actor: Actor) -> CertificateRecord:
        """Suspend (certificateHold): the card is reported lost."""
        def run() -> CertificateRecord:
            record = self.registry.get(serial)
            if record.status is not CertificateStatus.GOOD:
                raise LifecycleError(f"certificate {serial:x} is {record.status.value}, not good",
                                     Refusal.REVOKED if record.status is CertificateStatus.REVOKED
                                     else Refusal.NOT_GOOD)
            updated = self.registry.set_status(serial, CertificateStatus.SUSPENDED,
                                               RevocationReason.CERTIFICATE_HOLD, self.now())
            self._notify(serial)
            return updated
        return self._audited(AuditAction.SUSPEND, actor, (serial,), run, reason="certificateHold")

    def resume(self, serial: int, *, actor: Actor) -> CertificateRecord:
        """Resume a suspended certificate (removeFromCRL): the loss report is withdrawn."""
        def run() -> CertificateRecord:
            record = self.registry.get(serial)
            if record.status is not CertificateStatus.SUSPENDED:
                raise LifecycleError(f"certificate {serial:x} is {record.status.value}, not suspended",
                                     Refusal.NOT_SUSPENDED)
            updated = self.registry.set_status(serial, CertificateStatus.GOOD, None, self.now())
            self._notify(serial)
            return updated
        return self._audited(AuditAction.RESUME, actor, (serial,), run, reason="removeFromCRL")

    def revoke(self, serial: int, reason: RevocationReason, *, actor: Actor) -> CertificateRecord:
        """Revoke for good (also a suspended certificate); hold/removeFromCRL are refused as reasons."""
        def run() -> CertificateRecord:
            try:
                code = RevocationReason(reason)
            except ValueError as exc:
                raise LifecycleError(f"unknown revocation reason {reason!r}", Refusal.BAD_REASON) from exc
            if code not in REVOCATION_REASONS:
                raise LifecycleError("use suspend/resume for certificateHold and removeFromCRL",
                                     Refusal.BAD_REASON)
            record = self.registry.get(serial)
            if record.status is CertificateStatus.REVOKED:
                raise LifecycleError(f"certificate {serial:x} is already revoked", Refusal.REVOKED)
            updated = self.registry.set_status(serial, CertificateStatus.REVOKED, code, self.now())
            self._notify(serial)
            return updated
        return self._audited(AuditAction.REVOKE, actor, (serial,), run, reason=_reason_name(reason))

    def reissue(
        self, serial: int, csr: bytes, *, actor: Actor, not_after: datetime.datetime | None = None
    ) -> IssuedCertificate:
        """The one reissue (重新簽發, 展期) CARD-10 allows, with a new key: only for a good certificate;
        the old certificate is revoked as superseded if still valid."""
        def run() -> IssuedCertificate:
            old = self.registry.get(serial)
            self._require_good(old)
            now = self.now()
            period = reissue_period(old.card, old.reissue_count, now=now, not_after=not_after)
            subscriber = subscriber_of(x509.load_der_x509_certificate(old.der))
            issued = self._issue(csr, subscriber, old.usage, old.card, period,
                                 reissue_count=old.reissue_count + 1, replaces=old.serial,
                                 contact_email=old.contact_email, contact_phone=old.contact_phone,
                                 published=old.published, expect_algorithm=old.key_algorithm.value)
            self._supersede(old, now)
            return issued
        return self._audited(AuditAction.REISSUE, actor, (serial,), run)

    def reissue_on_content_change(
        self, serial: int, csr: bytes, subscriber: Subscriber, *, actor: Actor
    ) -> IssuedCertificate:
        """A new certificate with changed content (e.g. a new name, 憑證內容變更重發) until the old one's
        end; it does not count as the CARD-10 reissue. The old certificate is revoked as superseded."""
        def run() -> IssuedCertificate:
            old = self.registry.get(serial)
            self._require_good(old)
            if subscriber.card_serial != old.card_serial:
                raise LifecycleError("the card serial cannot change: a new card needs new certificates",
                                     Refusal.NEW_CARD_NEEDED)
            now = self.now()
            if now >= old.not_after:
                raise LifecycleError(f"certificate {serial:x} has expired", Refusal.CARD_EXPIRED)
            issued = self._issue(csr, subscriber, old.usage, old.card, ValidityPeriod(now, old.not_after),
                                 reissue_count=old.reissue_count, replaces=old.serial,
                                 contact_email=old.contact_email, contact_phone=old.contact_phone,
                                 published=old.published, expect_algorithm=old.key_algorithm.value)
            self._supersede(old, now)
            return issued
        return self._audited(AuditAction.REISSUE_CONTENT_CHANGE, actor, (serial,), run)

    def rewrite(self, serial: int, *, actor: Actor) -> x509.Certificate:
        """The certificate to write onto the card again (民眾憑證重寫); refused once it is revoked."""
        def run() -> x509.Certificate:
            record = self.registry.get(serial)
            if record.status is CertificateStatus.REVOKED:
                raise LifecycleError(f"certificate {serial:x} is revoked", Refusal.REVOKED)
            return x509.load_der_x509_certificate(record.der)
        return self._audited(AuditAction.REWRITE, actor, (serial,), run)

    def status(self, serial: int, *, actor: Actor) -> CertificateRecord:
        return self._audited(AuditAction.STATUS, actor, (serial,), lambda: self.registry.get(serial))

    def set_publication(self, serial: int, published: bool, *, actor: Actor) -> CertificateRecord:
        """Whether the certificate is published in the public repository (憑證公布狀態)."""
        def run() -> CertificateRecord:
            self.registry.set_published(serial, bool(published))
            return self.registry.get(serial)
        return self._audited(AuditAction.SET_PUBLICATION, actor, (serial,), run,
                             reason="published" if published else "unpublished")

    def change_contact(
        self, serial: int, *, actor: Actor, email: str | None = None, phone: str | None = None,
        change_phone: bool = True,
    ) -> CertificateRecord:
        """Change the contact e-mail (and phone unless ``change_phone`` is False) used for card unlock."""
        def run() -> CertificateRecord:
            record = self.registry.get(serial)
            new_phone = _phone(phone) if change_phone else record.contact_phone
            self.registry.set_contact(serial, _email(email), new_phone)
            return self.registry.get(serial)
        return self._audited(AuditAction.CHANGE_CONTACT, actor, (serial,), run)

    # -- helpers ----------------------------------------------------------------------------------------

    @staticmethod
    def _require_good(record: CertificateRecord) -> None:
        if record.status is CertificateStatus.REVOKED:
            raise LifecycleError(f"certificate {record.serial:x} is revoked: it cannot be reissued",
                                 Refusal.REVOKED)
        if record.status is not CertificateStatus.GOOD:
            raise LifecycleError(f"certificate {record.serial:x} is suspended: resume it first",
                                 Refusal.NOT_GOOD)

    def _supersede(self, old: CertificateRecord, now: datetime.datetime) -> None:
        if now < old.not_after:
            self.registry.set_status(old.serial, CertificateStatus.REVOKED, RevocationReason.SUPERSEDED, now)
            self._notify(old.serial)


def _reason_name(reason: object) -> str:
    try:
        return RevocationReason(reason).name.lower()  # type: ignore[arg-type]
    except ValueError:
        return "invalid"


def _email(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if (not isinstance(value, str) or len(value) > 254 or value.count("@") != 1
            or any(c.isspace() for c in value)):
        raise CaError("the contact e-mail address is not valid", Refusal.BAD_CONTACT)
    local, domain = value.split("@")
    if not local or "." not in domain:
        raise CaError("the contact e-mail address is not valid", Refusal.BAD_CONTACT)
    return value


def _phone(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    digits = value.replace("-", "").replace(" ", "")
    if not isinstance(value, str) or not (digits.isdigit() or (digits[:1] == "+" and digits[1:].isdigit())) \
            or not 8 <= len(digits) <= 16:
        raise CaError("the contact phone number is not valid", Refusal.BAD_CONTACT)
    return digits
