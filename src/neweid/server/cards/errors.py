"""Errors of the cards domain, each with a short code users see: ``C1xx`` state machine, ``C2xx``
batching and production, ``C3xx`` receiving and quality control, ``C4xx`` issuance, ``C7xx`` external
systems.

The platform's :class:`~neweid.server.errors.ErrorCode` is a closed enum; these codes are a second
``StrEnum`` of the same shape (``.value`` and ``str()`` give the code), cast where the base class expects
an ``ErrorCode``. Messages carry no personal data.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from neweid.server.errors import (
    ConflictError,
    NotFoundError,
    UnavailableError,
    ValidationFailedError,
)


class CardCode(StrEnum):
    ILLEGAL_TRANSITION = "C409"
    CONCURRENT_CHANGE = "C410"
    CARD_NOT_FOUND = "C404"
    BAD_CAPACITY = "C201"
    BATCH_STATE = "C202"
    SERIALS_EXHAUSTED = "C203"
    WRONG_OFFICE = "C301"
    NOT_ON_ROSTER = "C302"
    DEFECT_NOTE_REQUIRED = "C303"
    PERSON_NOT_REGISTERED = "C401"
    FACE_DATA_CHANGED = "C402"  # data printed on the card changed: the card must be voided, a new one made
    CHIP_UPDATE_NEEDED = "C403"  # updatable chip data changed: update the chip before handing it over
    DOCUMENTS_NOT_CHECKED = "C405"
    COLLECT_IN_PERSON = "C406"  # 14+: the citizen collects in person, nobody else
    REPRESENTATIVE_REQUIRED = "C407"  # under 14: a legal representative or an authorised ascendant
    CHILD_NOT_PRESENT = "C408"  # under 14: the child must be there for the face check
    CONSENT_REQUIRED = "C411"  # one parent alone / an ascendant: the consent or authorisation form
    PRODUCTION_UNAVAILABLE = "C701"
    CA_UNAVAILABLE = "C702"
    CA_REFUSED = "C703"



class IllegalTransition(ConflictError):  # noqa: N818 (the name of the contract)
    """The state machine forbids the change; names the from and to states (and how many cards)."""

    code = CardCode.ILLEGAL_TRANSITION

    def __init__(self, from_state: str, to_state: str, count: int = 1) -> None:
        self.from_state = from_state
        self.to_state = to_state
        self.count = count
        super().__init__(_("A card cannot go from %(from)s to %(to)s (%(count)d card(s)).")
                         % {"from": from_state, "to": to_state, "count": count})


class ConcurrentChangeError(ConflictError):
    code = CardCode.CONCURRENT_CHANGE
    default_message = _("Some cards changed while this was done; nothing was changed. Please try again.")


class CardNotFoundError(NotFoundError):
    code = CardCode.CARD_NOT_FOUND
    default_message = _("No such card.")


class BadCapacityError(ValidationFailedError):
    code = CardCode.BAD_CAPACITY
    default_message = _("The production capacity and batch size must be positive.")


class BatchStateError(ConflictError):
    code = CardCode.BATCH_STATE
    default_message = _("The production batch is not in a state that allows this.")


class SerialsExhaustedError(ConflictError):
    code = CardCode.SERIALS_EXHAUSTED
    default_message = _("No free card serial could be drawn.")


class WrongOfficeError(ConflictError):
    code = CardCode.WRONG_OFFICE
    default_message = _("The card is not for this office.")


class NotOnRosterError(ConflictError):
    code = CardCode.NOT_ON_ROSTER
    default_message = _("Some cards are not on this office's pickup roster.")


class DefectNoteRequiredError(ValidationFailedError):
    code = CardCode.DEFECT_NOTE_REQUIRED
    default_message = _("Say what is wrong with a defective card.")


class PersonNotRegisteredError(ConflictError):
    code = CardCode.PERSON_NOT_REGISTERED
    default_message = _("The person is no longer on the household register: the card must be voided.")


class FaceDataChangedError(ConflictError):
    code = CardCode.FACE_DATA_CHANGED
    default_message = _("Data printed on the card has changed since production: a new card is needed.")


class ChipUpdateNeededError(ConflictError):
    code = CardCode.CHIP_UPDATE_NEEDED
    default_message = _("The chip content is not current: update the chip before issuing the card.")


class DocumentsNotCheckedError(ValidationFailedError):
    code = CardCode.DOCUMENTS_NOT_CHECKED
    default_message = _("Check the documents and the household data first.")


class CollectInPersonError(ValidationFailedError):
    code = CardCode.COLLECT_IN_PERSON
    default_message = _("Citizens aged 14 or more collect their card in person.")


class RepresentativeRequiredError(ValidationFailedError):
    code = CardCode.REPRESENTATIVE_REQUIRED
    default_message = _("A child's card is collected by a legal representative or an ascendant they "
                        "authorise.")


class ChildNotPresentError(ValidationFailedError):
    code = CardCode.CHILD_NOT_PRESENT
    default_message = _("The child must be present when the card is collected.")


class ConsentRequiredError(ValidationFailedError):
    code = CardCode.CONSENT_REQUIRED
    default_message = _("The other parent's consent or the letter of authorisation is needed.")


class ProductionUnavailableError(UnavailableError):
    code = CardCode.PRODUCTION_UNAVAILABLE
    default_message = _("The production centre is not available; nothing was changed.")


class CitizenCaUnavailableError(UnavailableError):
    code = CardCode.CA_UNAVAILABLE
    default_message = _("The citizen certificate authority is not available; nothing was changed.")
