"""The rules an application must pass (MGMT-2, -3, -5, -9; CARD-10), as pure functions over registry
snapshots: no database, no clock, so each rule is tested on its own.

Each refusal is an :class:`~neweid.server.applications.errors.ApplicationRefusedError` with the rule's
code. :func:`decide` runs them in the order a clerk would: the person's registration status, the kind and
channel, the applicant and the documents, then computes what the application carries (certificate, fee,
renewal date).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from neweid.formats.idnumber import is_valid_id_number
from neweid.population.errors import PopulationError
from neweid.population.validity import CHILD_AGE_LIMIT, SENIOR_AGE, age_on, renewal_date
from neweid.server.applications.errors import ApplicationErrorCode as C
from neweid.server.applications.errors import ApplicationRefusedError
from neweid.server.applications.models import (
    ApplicantRole,
    CertificateRefusal,
    Channel,
    HomeServiceReason,
    Kind,
    ReplacementReason,
)
from neweid.server.registry.interface import PersonRecord
from neweid.server.registry.values import PersonStatus

# Fees in NTD, paid at pickup (MGMT-9). The report names the reissue fee without an amount; these are the
# amounts of today's paper ID card (first issuance NT$50, reissue and replacement NT$200); the nationwide
# replacement is free. A lost old card during the replacement is a reissue (fee) (Ch.11 參.二.(二)5.(1)).
FEES: dict[Kind, int] = {
    Kind.FIRST_ISSUANCE: 50,
    Kind.REISSUE_LOSS: 200,
    Kind.REPLACEMENT: 200,
    Kind.NATIONWIDE_REPLACEMENT: 0,
}

# Channels each kind may use: the scheduled site takes the nationwide replacement only; online takes the
# replacement and, for households already notified, the reissue of a lost old card; counter and home
# service take everything.
CHANNELS_FOR_KIND: dict[Kind, frozenset[Channel]] = {
    Kind.FIRST_ISSUANCE: frozenset({Channel.COUNTER, Channel.HOME}),
    Kind.REISSUE_LOSS: frozenset({Channel.COUNTER, Channel.HOME, Channel.ONLINE}),
    Kind.REPLACEMENT: frozenset({Channel.COUNTER, Channel.HOME}),
    Kind.NATIONWIDE_REPLACEMENT: frozenset(Channel),
}

# Kinds made in person (or by the legal representative) only: 初領或補領 "親自" (Ch.11 肆.二.(一)1).
NO_PROXY_KINDS = frozenset({Kind.FIRST_ISSUANCE, Kind.REISSUE_LOSS})

_STATUS_RULES: dict[PersonStatus, C] = {
    PersonStatus.MISSING: C.PERSON_MISSING,
    PersonStatus.INMATE: C.PERSON_INMATE,
    PersonStatus.EMIGRATED: C.PERSON_EMIGRATED,
    PersonStatus.DEAD: C.PERSON_DEAD,
    PersonStatus.DECLARED_DEAD: C.PERSON_DEAD,
    PersonStatus.REGISTRATION_CANCELLED: C.REGISTRATION_CANCELLED,
}


@dataclass(frozen=True)
class Documents:
    """What the applicant showed at the office (ticked by the clerk)."""

    applicant_id_checked: bool = False  # the representative's or proxy's identity document
    power_of_attorney: bool = False  # 委託書
    other_parent_consent: bool = False  # 同意書 of the parent who is not there
    other_parent_present: bool = False  # both parents came


@dataclass(frozen=True, repr=False)
class ApplicationInput:
    """An application as taken in (from the console, the API or the online portal)."""

    id_number: str
    channel: Channel
    kind: Kind
    photo: bytes
    replacement_reason: ReplacementReason | None = None
    applicant_role: ApplicantRole = ApplicantRole.SELF
    applicant_id_number: str | None = None
    documents: Documents = field(default_factory=Documents)
    certificate_opt_in: bool = True
    home_service_reason: HomeServiceReason | None = None
    pickup_office_code: str | None = None  # online only; other channels collect where they applied
    pickup_date: date | None = None
    contact_email: str = ""
    contact_phone: str = ""

    def __repr__(self) -> str:
        return f"ApplicationInput({self.channel.value}, {self.kind.value})"


@dataclass(frozen=True)
class Decision:
    """What the rules computed for an accepted application."""

    age: int
    renewal_date: date | None
    fee: int
    certificate_opt_in: bool
    certificate_refusal: CertificateRefusal | None
    home_service_reason: HomeServiceReason | None


def refuse(code: C) -> ApplicationRefusedError:
    return ApplicationRefusedError(code)


def check_id_numbers(request: ApplicationInput) -> None:
    if not is_valid_id_number(request.id_number):
        raise refuse(C.BAD_ID_NUMBER)
    if request.applicant_id_number is not None and not is_valid_id_number(request.applicant_id_number):
        raise refuse(C.BAD_ID_NUMBER)


def check_registration_status(person: PersonRecord) -> None:
    """Only people actively on the register apply: missing people after the police cleared the report,
    inmates after release, emigrants with their re-registration; the dead and cancelled never."""
    code = _STATUS_RULES.get(person.status)
    if code is not None:
        raise refuse(code)


def check_kind(request: ApplicationInput) -> None:
    if request.kind is Kind.REPLACEMENT and request.replacement_reason is None:
        raise refuse(C.REPLACEMENT_REASON_REQUIRED)
    if request.kind is not Kind.REPLACEMENT and request.replacement_reason is not None:
        raise refuse(C.REPLACEMENT_REASON_NOT_ALLOWED)


def check_channel(request: ApplicationInput, person: PersonRecord, *, age: int, office_township: str,
                  notified: bool) -> HomeServiceReason | None:
    """Channel rules (MGMT-2); returns the home-service reason kept with the application."""
    if request.channel not in CHANNELS_FOR_KIND[request.kind]:
        raise refuse(C.CHANNEL_NOT_FOR_KIND)
    if request.channel is Channel.SITE and person.household.region.township_code != office_township:
        raise refuse(C.SITE_OUT_OF_DISTRICT)
    if request.channel is Channel.ONLINE:
        if request.pickup_office_code is None or request.pickup_date is None:
            raise refuse(C.PICKUP_REQUIRED)
        if request.kind is Kind.REISSUE_LOSS and not notified:
            raise refuse(C.NOT_NOTIFIED)
    if request.channel is not Channel.HOME:
        return None
    reason = request.home_service_reason
    if reason is None or (reason is HomeServiceReason.SENIOR_LIMITED_MOBILITY and age < SENIOR_AGE):
        raise refuse(C.HOME_SERVICE_NOT_ELIGIBLE)
    return reason


def _is_parent(person: PersonRecord, applicant: PersonRecord) -> bool:
    return applicant.id_number in {person.father_id_number, person.mother_id_number} - {None}


def other_parent_id(person: PersonRecord, applicant: PersonRecord) -> str | None:
    """The ID number of the child's other parent on the register, if any."""
    if applicant.id_number == person.father_id_number:
        return person.mother_id_number
    if applicant.id_number == person.mother_id_number:
        return person.father_id_number
    return None


def _acting_person_ok(applicant: PersonRecord | None, person: PersonRecord) -> PersonRecord:
    if applicant is None:
        raise refuse(C.APPLICANT_REQUIRED)
    if applicant.status is not PersonStatus.ACTIVE or applicant.id_number == person.id_number:
        raise refuse(C.APPLICANT_NOT_ELIGIBLE)
    return applicant


def check_applicant(request: ApplicationInput, person: PersonRecord, applicant: PersonRecord | None,
                    other_parent: PersonRecord | None, *, age: int) -> None:
    """MGMT-3: 14+ in person; under 14 a legal representative (one parent with the other's consent form
    or power of attorney); proxies with ID and power of attorney, never online, never for a first issuance
    or a reissue after loss. ``other_parent`` is the other parent's record when the register has one."""
    role = request.applicant_role
    docs = request.documents
    if role is ApplicantRole.SELF:
        if age < CHILD_AGE_LIMIT:
            raise refuse(C.REPRESENTATIVE_REQUIRED)
        return
    if role is ApplicantRole.LEGAL_REPRESENTATIVE:
        if age >= CHILD_AGE_LIMIT:
            raise refuse(C.IN_PERSON_REQUIRED)
        representative = _acting_person_ok(applicant, person)
        if not _is_parent(person, representative):
            raise refuse(C.NOT_LEGAL_REPRESENTATIVE)
        if request.channel is not Channel.ONLINE and not docs.applicant_id_checked:
            raise refuse(C.REPRESENTATIVE_ID_REQUIRED)
        other_alive = other_parent is not None and other_parent.status not in (
            PersonStatus.DEAD, PersonStatus.DECLARED_DEAD)
        if other_alive and request.channel is not Channel.ONLINE and not (
                docs.other_parent_consent or docs.power_of_attorney or docs.other_parent_present):
            raise refuse(C.OTHER_PARENT_CONSENT_REQUIRED)
        return
    # proxy
    if request.channel is Channel.ONLINE:
        raise refuse(C.PROXY_NOT_ALLOWED_ONLINE)
    if request.kind in NO_PROXY_KINDS:
        raise refuse(C.PROXY_NOT_ALLOWED_FOR_KIND)
    _acting_person_ok(applicant, person)
    if not (docs.applicant_id_checked and docs.power_of_attorney):
        raise refuse(C.PROXY_DOCUMENTS_REQUIRED)


def certificate_option(person: PersonRecord, opt_in: bool) -> tuple[bool, CertificateRefusal | None]:
    """MGMT-5: the certificate is attached by default; never for a person under guardianship."""
    if person.under_guardianship:
        return False, CertificateRefusal.GUARDIANSHIP
    if not opt_in:
        return False, CertificateRefusal.DECLINED
    return True, None


def application_age(person: PersonRecord, application_date: date) -> int:
    try:
        return age_on(person.birth_date, application_date)
    except PopulationError:
        raise refuse(C.APPLICANT_NOT_ELIGIBLE) from None


def decide(request: ApplicationInput, person: PersonRecord, applicant: PersonRecord | None,
           other_parent: PersonRecord | None, *, application_date: date, office_township: str,
           notified: bool) -> Decision:
    """All the rules, in order; the :class:`Decision` for an application that passes them."""
    check_id_numbers(request)
    check_registration_status(person)
    age = application_age(person, application_date)
    check_kind(request)
    home_reason = check_channel(request, person, age=age, office_township=office_township, notified=notified)
    check_applicant(request, person, applicant, other_parent, age=age)
    opt_in, refusal = certificate_option(person, request.certificate_opt_in)
    return Decision(age=age, renewal_date=renewal_date(person.birth_date, application_date),
                    fee=FEES[request.kind], certificate_opt_in=opt_in, certificate_refusal=refusal,
                    home_service_reason=home_reason)
