"""Errors of the applications domain: one short code per rule, so that clerks and citizens see which rule
refused the application (MGMT-2..5, CARD-11).

Messages never contain personal data (ID numbers, names): they reach logs and the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from neweid.server.errors import ConflictError, ServerError, ValidationFailedError


class ApplicationErrorCode(StrEnum):
    """Short codes of the applications domain ("P" for application): P1xx applicant rules, P2xx photo,
    P3xx pickup quota, P4xx notification, P5xx state."""

    BAD_ID_NUMBER = "P100"
    IN_PERSON_REQUIRED = "P101"  # 14+: the person applies (or a proxy), not a legal representative
    REPRESENTATIVE_REQUIRED = "P102"  # under 14: the legal representative applies
    NOT_LEGAL_REPRESENTATIVE = "P103"  # the applicant is not a parent of the child on the register
    OTHER_PARENT_CONSENT_REQUIRED = "P104"  # one parent alone: the other's consent form or power of attorney
    PROXY_DOCUMENTS_REQUIRED = "P105"  # proxy: the proxy's ID and the power of attorney
    PROXY_NOT_ALLOWED_FOR_KIND = "P106"  # first issuance and reissue after loss: in person, no proxy
    PROXY_NOT_ALLOWED_ONLINE = "P107"  # online: the person or the legal representative only
    APPLICANT_NOT_ELIGIBLE = "P108"  # the representative or proxy is not a registered person
    APPLICANT_REQUIRED = "P109"  # representative or proxy without an ID number
    PERSON_MISSING = "P110"  # missing person: cleared by the police first
    PERSON_INMATE = "P111"  # in a correctional facility: after release
    PERSON_EMIGRATED = "P112"  # emigrated: with the re-registration (return) only
    PERSON_DEAD = "P113"  # dead or declared dead
    REGISTRATION_CANCELLED = "P114"  # registration cancelled
    HOME_SERVICE_NOT_ELIGIBLE = "P115"  # home service: disabled, 65+ with limited mobility, ill, ...
    SITE_OUT_OF_DISTRICT = "P116"  # scheduled site: household-district cases only
    CHANNEL_NOT_FOR_KIND = "P117"  # e.g. a first issuance online
    NOT_NOTIFIED = "P118"  # online reissue during the replacement: only after the household's letter
    REPRESENTATIVE_ID_REQUIRED = "P119"  # the legal representative's own ID document (not online)
    OPEN_APPLICATION_EXISTS = "P120"
    REPLACEMENT_REASON_REQUIRED = "P130"
    REPLACEMENT_REASON_NOT_ALLOWED = "P131"
    PHOTO_NOT_JPEG = "P201"
    PHOTO_TOO_LARGE = "P202"
    PHOTO_TOO_SMALL = "P203"
    PHOTO_UNREADABLE = "P204"
    QUOTA_FULL = "P301"  # out-of-district online pickups: the office's quota for the day is used up
    PICKUP_REQUIRED = "P302"  # online: a pickup office and date are needed
    BAD_QUOTA = "P303"
    NOTICE_TOO_LATE = "P401"  # the replacement date is less than 15 days ahead
    VILLAGE_NOT_IN_OFFICE_AREA = "P402"
    UNKNOWN_VILLAGE = "P403"
    WRONG_STATE = "P501"
    UNKNOWN_OFFICE = "P502"


C = ApplicationErrorCode
MESSAGES: dict[ApplicationErrorCode, str | Promise] = {
    C.BAD_ID_NUMBER: _("The ID number is not valid."),
    C.IN_PERSON_REQUIRED: _("Applicants aged 14 or more apply in person or through a proxy."),
    C.REPRESENTATIVE_REQUIRED: _("For a child under 14 the legal representative applies."),
    C.NOT_LEGAL_REPRESENTATIVE: _("The applicant is not the child's legal representative."),
    C.OTHER_PARENT_CONSENT_REQUIRED: _("One parent alone needs the other parent's consent form or power "
                                       "of attorney."),
    C.PROXY_DOCUMENTS_REQUIRED: _("A proxy needs an identity document and the power of attorney."),
    C.PROXY_NOT_ALLOWED_FOR_KIND: _("A first issuance or a reissue after loss cannot be made by a proxy."),
    C.PROXY_NOT_ALLOWED_ONLINE: _("Online applications are made by the person or the legal representative."),
    C.APPLICANT_NOT_ELIGIBLE: _("The applicant cannot act for this person."),
    C.APPLICANT_REQUIRED: _("The ID number of the representative or proxy is needed."),
    C.PERSON_MISSING: _("The person is registered as missing: the police must clear the report first."),
    C.PERSON_INMATE: _("The person is in a correctional facility and applies after release."),
    C.PERSON_EMIGRATED: _("The person has emigrated: apply together with the re-registration."),
    C.PERSON_DEAD: _("The person is registered as dead."),
    C.REGISTRATION_CANCELLED: _("The person's household registration is cancelled."),
    C.HOME_SERVICE_NOT_ELIGIBLE: _("Home service is for people who cannot come to an office."),
    C.SITE_OUT_OF_DISTRICT: _("The scheduled site takes only applications from its own district."),
    C.CHANNEL_NOT_FOR_KIND: _("This kind of application cannot be made through this channel."),
    C.NOT_NOTIFIED: _("The household has not been notified yet: apply at the counter."),
    C.REPRESENTATIVE_ID_REQUIRED: _("The legal representative must show an identity document."),
    C.OPEN_APPLICATION_EXISTS: _("The person already has an application in progress."),
    C.REPLACEMENT_REASON_REQUIRED: _("A replacement needs a reason."),
    C.REPLACEMENT_REASON_NOT_ALLOWED: _("Only a replacement has a replacement reason."),
    C.PHOTO_NOT_JPEG: _("The photo must be a JPEG file."),
    C.PHOTO_TOO_LARGE: _("The photo must not be larger than 5 MB."),
    C.PHOTO_TOO_SMALL: _("The photo must be at least 826 × 1062 pixels."),
    C.PHOTO_UNREADABLE: _("The photo cannot be read."),
    C.QUOTA_FULL: _("The office has no room for out-of-district pickups that day: choose another day or "
                    "office."),
    C.PICKUP_REQUIRED: _("Choose the office and the day of pickup."),
    C.BAD_QUOTA: _("The quota is not valid."),
    C.NOTICE_TOO_LATE: _("The replacement must be scheduled at least 15 days ahead."),
    C.VILLAGE_NOT_IN_OFFICE_AREA: _("The village is not in the office's area."),
    C.UNKNOWN_VILLAGE: _("Unknown village code."),
    C.WRONG_STATE: _("The application is not in a state that allows this."),
    C.UNKNOWN_OFFICE: _("Unknown office."),
}


class ApplicationError(ServerError):
    """Base of the domain's errors; ``code`` is the rule's :class:`ApplicationErrorCode`."""

    def __init__(self, code: ApplicationErrorCode, message: str | Promise | None = None) -> None:
        super().__init__(message if message is not None else MESSAGES[code])
        # ErrorCode (neweid.server.errors) is closed; domain codes are another StrEnum with the same shape.
        self.code = code
        self.rule = code


class ApplicationRefusedError(ApplicationError, ValidationFailedError):
    """An application (or schedule, quota) that a rule refuses (HTTP 422)."""


class ApplicationConflictError(ApplicationError, ConflictError):
    """Refused because of the current state (HTTP 409)."""


@dataclass(frozen=True)
class QuotaSlot:
    """Room for out-of-district pickups: an office, a day, how many places are left."""

    office_code: str
    day: date
    remaining: int


class QuotaFullError(ApplicationConflictError):
    """The pickup office's quota for the day is used up; ``alternatives`` lists days/offices with room."""

    def __init__(self, alternatives: tuple[QuotaSlot, ...] = ()) -> None:
        super().__init__(ApplicationErrorCode.QUOTA_FULL)
        self.alternatives = alternatives
