"""The RA service the New eID management system and the citizens' online service call (Ch.6 肆.一).

:class:`RaService` hands out two facades over :class:`~neweid.pki.ca.lifecycle.CitizenCa`:

* :class:`OfficeRa` — the household registration office's RAO functions (肆.一(一)): issue, suspend /
  resume, renew (the one reissue), change contact e-mail / phone, rewrite, status, publication status —
  plus the management-system events of the issue: loss → suspend, loss withdrawn → resume,
  guardianship or death → revoke. Obtained after RA authentication of the management system
  (:meth:`RaService.authenticate_office`, a client id and token checked in constant time) or, on the CA
  host itself, by the CA operator (:meth:`RaService.operator`).
* :class:`CitizenRa` — the citizen's online functions (肆.一(二)): suspend / resume, revoke, renew,
  reissue on content change, change e-mail (not the phone), rewrite, status, publication status. It is
  bound to one card: certificates of other cards answer "unknown" exactly like serials never issued.
  The online service authenticates the citizen with the card (PIN2 + signing certificate) before asking;
  :meth:`RaService.citizen_by_certificate` does the CA's part of that check.

Card unlock (鎖卡解碼) and PIN change are card-management functions on the card side, not here.
An opt-out at card issue simply means the management system never calls :meth:`OfficeRa.issue`.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Mapping
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from neweid.pki.ca.audit import Actor, ActorKind, AuditAction, AuditEvent, Outcome
from neweid.pki.ca.errors import CaError, LifecycleError, Refusal, UnknownCertificateError
from neweid.pki.ca.lifecycle import CitizenCa, IssuedCertificate, subscriber_of
from neweid.pki.ca.profiles import CertificateUsage, Subscriber
from neweid.pki.ca.registry import CertificateRecord, CertificateStatus, RevocationReason
from neweid.pki.ca.validity import CardValidity

__all__ = ["CitizenRa", "EndCause", "OfficeRa", "RaService", "token_digest"]


class EndCause(StrEnum):
    """Why the management system ends a citizen's certificates."""

    GUARDIANSHIP = "guardianship"  # 受監護宣告: the subscriber may no longer hold certificates
    DEATH = "death"

    def reason(self) -> RevocationReason:
        if self is EndCause.GUARDIANSHIP:
            return RevocationReason.PRIVILEGE_WITHDRAWN
        return RevocationReason.CESSATION_OF_OPERATION


def token_digest(token: bytes) -> bytes:
    """What :class:`RaService` stores for an RA client token: its SHA-256."""
    return hashlib.sha256(token).digest()


class OfficeRa:
    """The RAO functions, acting as ``actor``."""

    def __init__(self, ca: CitizenCa, actor: Actor) -> None:
        self._ca = ca
        self.actor = actor

    def issue(
        self,
        csr: bytes,
        subscriber: Subscriber,
        usage: CertificateUsage,
        card: CardValidity,
        *,
        not_after: datetime.datetime | None = None,
        contact_email: str | None = None,
        contact_phone: str | None = None,
    ) -> IssuedCertificate:
        return self._ca.issue(csr, subscriber, usage, card, actor=self.actor, not_after=not_after,
                              contact_email=contact_email, contact_phone=contact_phone)

    def suspend(self, serial: int) -> CertificateRecord:
        return self._ca.suspend(serial, actor=self.actor)

    def resume(self, serial: int) -> CertificateRecord:
        return self._ca.resume(serial, actor=self.actor)

    def revoke(
        self, serial: int, reason: RevocationReason = RevocationReason.UNSPECIFIED
    ) -> CertificateRecord:
        return self._ca.revoke(serial, reason, actor=self.actor)

    def renew(
        self, serial: int, csr: bytes, *, not_after: datetime.datetime | None = None
    ) -> IssuedCertificate:
        return self._ca.reissue(serial, csr, actor=self.actor, not_after=not_after)

    def reissue_on_content_change(self, serial: int, csr: bytes, subscriber: Subscriber) -> IssuedCertificate:
        return self._ca.reissue_on_content_change(serial, csr, subscriber, actor=self.actor)

    def change_contact(self, serial: int, *, email: str | None, phone: str | None) -> CertificateRecord:
        return self._ca.change_contact(serial, actor=self.actor, email=email, phone=phone)

    def rewrite(self, serial: int) -> x509.Certificate:
        return self._ca.rewrite(serial, actor=self.actor)

    def status(self, serial: int) -> CertificateRecord:
        return self._ca.status(serial, actor=self.actor)

    def set_publication(self, serial: int, published: bool) -> CertificateRecord:
        return self._ca.set_publication(serial, published, actor=self.actor)

    def certificates_of_card(self, card_serial: str) -> list[CertificateRecord]:
        return self._ca.registry.by_card(card_serial)

    # -- management-system events ------------------------------------------------------------------------

    def report_loss(self, card_serial: str) -> list[CertificateRecord]:
        """The card is reported lost: suspend each of its good certificates."""
        return [self.suspend(r.serial) for r in self._ca.registry.by_card(card_serial)
                if r.status is CertificateStatus.GOOD]

    def withdraw_loss(self, card_serial: str) -> list[CertificateRecord]:
        """The loss report is withdrawn (card found): resume each suspended certificate."""
        return [self.resume(r.serial) for r in self._ca.registry.by_card(card_serial)
                if r.status is CertificateStatus.SUSPENDED]

    def end_subscriber(self, card_serial: str, cause: EndCause) -> list[CertificateRecord]:
        """Guardianship or death: revoke every certificate of the card that is not yet revoked."""
        reason = EndCause(cause).reason()
        return [self.revoke(r.serial, reason) for r in self._ca.registry.by_card(card_serial)
                if r.status is not CertificateStatus.REVOKED]


class CitizenRa:
    """The citizen's online functions, limited to the certificates of one card."""

    _CITIZEN_REASONS = frozenset({RevocationReason.UNSPECIFIED, RevocationReason.KEY_COMPROMISE,
                                  RevocationReason.CESSATION_OF_OPERATION})

    def __init__(self, ca: CitizenCa, card_serial: str) -> None:
        self._ca = ca
        self._card_serial = card_serial
        self.actor = Actor(ActorKind.CITIZEN)

    def _own(self, serial: int) -> int:
        record = self._ca.registry.find(serial)
        if record is None or record.card_serial != self._card_serial:
            self._ca.audit.record(AuditEvent(self._ca.now(), AuditAction.STATUS, Outcome.REFUSED, self.actor,
                                             (serial,), refusal=Refusal.UNKNOWN_CERTIFICATE.value))
            raise UnknownCertificateError(f"no certificate with serial {serial:x}")
        return serial

    def certificates(self) -> list[CertificateRecord]:
        return self._ca.registry.by_card(self._card_serial)

    def suspend(self, serial: int) -> CertificateRecord:
        return self._ca.suspend(self._own(serial), actor=self.actor)

    def resume(self, serial: int) -> CertificateRecord:
        return self._ca.resume(self._own(serial), actor=self.actor)

    def revoke(
        self, serial: int, reason: RevocationReason = RevocationReason.UNSPECIFIED
    ) -> CertificateRecord:
        if reason not in self._CITIZEN_REASONS:
            raise LifecycleError("citizens may revoke as unspecified, keyCompromise or cessationOfOperation",
                                 Refusal.BAD_REASON)
        return self._ca.revoke(self._own(serial), reason, actor=self.actor)

    def renew(self, serial: int, csr: bytes) -> IssuedCertificate:
        return self._ca.reissue(self._own(serial), csr, actor=self.actor)

    def reissue_on_content_change(self, serial: int, csr: bytes, name: str) -> IssuedCertificate:
        """A new certificate after a change of name recorded by the household registration system."""
        record = self._ca.registry.get(self._own(serial))
        old = subscriber_of(x509.load_der_x509_certificate(record.der))
        changed = Subscriber(name, old.id_last4, old.card_serial)
        return self._ca.reissue_on_content_change(serial, csr, changed, actor=self.actor)

    def change_email(self, serial: int, email: str | None) -> CertificateRecord:
        return self._ca.change_contact(self._own(serial), actor=self.actor, email=email, change_phone=False)

    def rewrite(self, serial: int) -> x509.Certificate:
        return self._ca.rewrite(self._own(serial), actor=self.actor)

    def status(self, serial: int) -> CertificateRecord:
        return self._ca.status(self._own(serial), actor=self.actor)

    def set_publication(self, serial: int, published: bool) -> CertificateRecord:
        return self._ca.set_publication(self._own(serial), published, actor=self.actor)


class RaService:
    """Entry point for the management system and the online service."""

    def __init__(self, ca: CitizenCa, *, office_clients: Mapping[str, bytes] | None = None) -> None:
        """``office_clients`` maps an RA client id to :func:`token_digest` of its token."""
        self.ca = ca
        self._clients = dict(office_clients or {})

    def authenticate_office(self, client_id: str, token: bytes, operator_id: str) -> OfficeRa:
        """RA authentication of the New eID management system (肆.一(一)1); ``operator_id`` names the
        office clerk for the audit trail."""
        actor = Actor(ActorKind.OFFICE, f"{client_id}/{operator_id}")
        expected = self._clients.get(client_id, b"\x00" * 32)
        ok = hmac.compare_digest(token_digest(bytes(token)), expected) and client_id in self._clients
        if not ok or not operator_id:
            self.ca.audit.record(AuditEvent(self.ca.now(), AuditAction.AUTHENTICATE, Outcome.REFUSED, actor,
                                            refusal=Refusal.NOT_AUTHENTICATED.value))
            raise CaError("RA authentication failed", Refusal.NOT_AUTHENTICATED)
        self.ca.audit.record(AuditEvent(self.ca.now(), AuditAction.AUTHENTICATE, Outcome.DONE, actor))
        return OfficeRa(self.ca, actor)

    def operator(self, operator_id: str) -> OfficeRa:
        """The CA's own operator on the CA host (the `neweid ca` command)."""
        return OfficeRa(self.ca, Actor(ActorKind.CA_OPERATOR, operator_id))

    def citizen_online(self, card_serial: str) -> CitizenRa:
        """The online functions for the card the online service has authenticated."""
        return CitizenRa(self.ca, card_serial)

    def citizen_by_certificate(self, certificate: x509.Certificate) -> CitizenRa:
        """The online functions for the holder of ``certificate`` (e.g. a verified TLS client
        certificate): it must be one this CA issued and has not revoked (a suspended certificate may
        still log in, to resume)."""
        der = certificate.public_bytes(serialization.Encoding.DER)
        record = self.ca.registry.find(certificate.serial_number)
        if record is None or record.der != der or record.status is CertificateStatus.REVOKED:
            raise CaError("the certificate does not authenticate a citizen here", Refusal.NOT_AUTHENTICATED)
        return CitizenRa(self.ca, record.card_serial)
