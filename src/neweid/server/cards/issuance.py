"""Issuing a card to the citizen (核發, MGMT-8, table 14 of the report).

:func:`do_issue_card` checks, in the SOP's order: the documents and the household data (the person must
still be on the register), who collects (14+: the citizen in person; under 14: a legal representative, or
an ascendant they authorise with the letter, with the child present for the face check), that the chip
content is current (the register's data now against the digests taken at production: printed data changed
→ a new card; updatable data changed → a chip update first), the certificate (revoked if the person is now
under guardianship, MGMT-5); then hands the card over: the pickup confirmation with the default user code
(generated, printed once, kept only as a hash), the old card cut and retained (REPLACED; a lost one is
superseded: REISSUED) with its certificates revoked, and the application completed.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from neweid.population.validity import age_on
from neweid.server.accounts.models import Office
from neweid.server.applications.models import Application, Status
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.cards.ca import CardRef, CitizenCa, RevocationReason
from neweid.server.cards.carddata import card_digests
from neweid.server.cards.errors import (
    CardNotFoundError,
    ChildNotPresentError,
    ChipUpdateNeededError,
    CollectInPersonError,
    ConsentRequiredError,
    DocumentsNotCheckedError,
    FaceDataChangedError,
    IllegalTransition,
    PersonNotRegisteredError,
    RepresentativeRequiredError,
    WrongOfficeError,
)
from neweid.server.cards.models import Card, Collector, PickupConfirmation
from neweid.server.cards.office import require_office_staff
from neweid.server.cards.states import CardState, CertificateState
from neweid.server.cards.transitions import transition
from neweid.server.registry.errors import PersonNotFoundError
from neweid.server.registry.interface import HouseholdRegistry, PersonRecord
from neweid.server.registry.models import Person

CHILD_AGE_LIMIT = 14
USER_CODE_LENGTH = 10  # the citizen resets it to 6-10 letters and digits
USER_CODE_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "O0I1")
Rng = Callable[[int], bytes]


@dataclass(frozen=True)
class IssuanceChecks:
    """What the clerk checked and who came (the SOP's table 14)."""

    documents_checked: bool  # ID documents, household data, old card (or the loss fee), temporary cert
    collector: Collector
    collector_id_number: str | None = None  # the representative's or ascendant's ID number
    child_present: bool = False
    consent_document: bool = False  # the other parent's consent / the letter of authorisation
    stub_signed: bool = True  # the citizen checked the card and signed the stub


@dataclass(frozen=True, repr=False)
class IssuanceResult:
    card: Card
    confirmation: PickupConfirmation
    default_user_code: str  # printed on the confirmation once; only its hash is stored

    def __repr__(self) -> str:
        return f"IssuanceResult({self.card.serial})"


def hash_user_code(code: str, rng: Rng = os.urandom) -> str:
    """``hmac-sha256$<salt>$<mac>``: salted, and keyed with a server-side key (``NEWEID_USER_CODE_KEY``,
    default derived from the secret key). The code has 50 random bits, so a fast keyed hash suffices and
    45,000 issuances a day do not spend minutes in a password hash; the citizen replaces it at once."""
    salt = rng(16).hex()
    return f"hmac-sha256${salt}${_user_code_mac(code, salt)}"


def check_user_code(code: str, stored: str) -> bool:
    """Whether ``code`` is the one hashed in ``stored`` (constant-time comparison)."""
    scheme, _, rest = stored.partition("$")
    salt, _, mac = rest.partition("$")
    if scheme != "hmac-sha256" or not salt or not mac:
        return False
    return hmac.compare_digest(_user_code_mac(code.strip().upper(), salt), mac)


def _user_code_mac(code: str, salt: str) -> str:
    secret = getattr(settings, "NEWEID_USER_CODE_KEY", "") or settings.SECRET_KEY
    key = hashlib.sha256(b"neweid.cards.user_code\x00" + secret.encode("utf-8")).digest()
    return hmac.new(key, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def new_user_code(rng: Rng = os.urandom) -> str:
    alphabet = USER_CODE_ALPHABET
    return "".join(alphabet[byte % len(alphabet)] for byte in _unbiased(rng, len(alphabet), USER_CODE_LENGTH))


def _unbiased(rng: Rng, modulus: int, count: int) -> list[int]:
    limit = 256 - 256 % modulus
    out: list[int] = []
    while len(out) < count:
        out.extend(b for b in rng(count * 2) if b < limit)
    return out[:count]


def check_collector(record: PersonRecord, checks: IssuanceChecks, today: datetime.date) -> None:
    """14+: in person only. Under 14: a legal representative (a parent on the register) or an ascendant
    they authorise (with the letter), and the child present."""
    if age_on(record.birth_date, today) >= CHILD_AGE_LIMIT:
        if checks.collector != Collector.SELF:
            raise CollectInPersonError()
        return
    if checks.collector == Collector.SELF:
        raise RepresentativeRequiredError()
    if checks.collector == Collector.LEGAL_REPRESENTATIVE:
        parents = {record.father_id_number, record.mother_id_number} - {None}
        if checks.collector_id_number not in parents:
            raise RepresentativeRequiredError()
    elif not checks.consent_document or not checks.collector_id_number:
        raise ConsentRequiredError()
    if not checks.child_present:
        raise ChildNotPresentError()


def check_chip_current(card: Card, record: PersonRecord) -> None:
    digests = card_digests(record)
    if digests.face != card.face_digest:
        raise FaceDataChangedError()
    if digests.chip != card.chip_digest:
        raise ChipUpdateNeededError()


def do_issue_card(serial: str, *, office: Office, checks: IssuanceChecks, acting_user: Any,
                  registry: HouseholdRegistry, ca: CitizenCa, rng: Rng = os.urandom,
                  now: datetime.datetime | None = None) -> IssuanceResult:
    actor = actor_id(acting_user)
    moment = now if now is not None else timezone.now()
    with audited_action("cards.issue", actor=actor, object_type="card", object_id=serial,
                        extra={"collector": checks.collector.value}) as audit:
        require_office_staff(acting_user, office)
        card = Card.objects.select_for_update().select_related("person").filter(serial=serial).first()
        if card is None:
            raise CardNotFoundError()
        if card.pickup_office_id != office.pk:
            raise WrongOfficeError()
        if card.state != CardState.NOTIFIED:
            raise IllegalTransition(card.state, CardState.ISSUED.value)
        if not checks.documents_checked or not checks.stub_signed:
            raise DocumentsNotCheckedError()
        try:
            record = registry.person(card.person.id_number)
        except PersonNotFoundError:
            raise PersonNotRegisteredError() from None
        if not record.status.is_registered:
            raise PersonNotRegisteredError()
        check_collector(record, checks, timezone.localdate(moment))
        check_chip_current(card, record)
        revoked = 0
        if record.under_guardianship and card.certificate_state in (CertificateState.ACTIVE,
                                                                     CertificateState.PENDING):
            ca.revoke([CardRef(card.pk, card.serial)], RevocationReason.PRIVILEGE_WITHDRAWN)
            Card.objects.filter(pk=card.pk).update(certificate_state=CertificateState.REVOKED)
            revoked = 1
        old_cards = _retire_old_cards(card, ca, actor, moment)
        transition([card.pk], CardState.ISSUED, actor=actor, now=moment, updates={"issued_at": moment})
        code = new_user_code(rng)
        confirmation = PickupConfirmation.objects.create(
            card=card, office=office, confirmed_at=moment, staff=actor, collector=checks.collector,
            collector_person=_person(checks.collector_id_number), child_present=checks.child_present,
            consent_document=checks.consent_document, documents_checked=checks.documents_checked,
            stub_signed=checks.stub_signed, user_code_hash=hash_user_code(code, rng),
            old_cards_retained=old_cards)
        # The application is done; the photo is no longer needed in the management system (SEC-3).
        Application.objects.filter(pk=card.application_id).update(status=Status.COMPLETED, photo=b"")
        card.refresh_from_db()
        audit.extra.update({"old_cards": old_cards, "certificate_revoked": revoked})
        return IssuanceResult(card, confirmation, code)


def _person(id_number: str | None) -> Person | None:
    if not id_number:
        return None
    return Person.objects.filter(id_number=id_number).first()


def _retire_old_cards(card: Card, ca: CitizenCa, actor: str, moment: datetime.datetime) -> int:
    """The person's previous card: an issued one is cut and retained (REPLACED); a lost one is superseded
    (REISSUED). Their certificates are revoked."""
    old = list(Card.objects.filter(person_id=card.person_id, state__in=(CardState.ISSUED, CardState.LOST))
               .exclude(pk=card.pk).values_list("pk", "serial", "state", "certificate_state"))
    for state, target in ((CardState.ISSUED, CardState.REPLACED), (CardState.LOST, CardState.REISSUED)):
        ids = [pk for pk, _, s, _ in old if s == state]
        if ids:
            transition(ids, target, actor=actor, now=moment, reason="new card issued")
    certified = [CardRef(pk, serial) for pk, serial, _, cert in old
                 if cert in (CertificateState.ACTIVE, CertificateState.SUSPENDED)]
    if certified:
        ca.revoke(certified, RevocationReason.SUPERSEDED)
        Card.objects.filter(pk__in=[c.card_id for c in certified]).update(
            certificate_state=CertificateState.REVOKED)
    return len(old)
