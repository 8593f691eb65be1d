"""The cards API (/api/cards/...): the office's pickup roster, receiving, quality control, notification,
issuance, and a card's status and history. Thin views over the ``do_*`` actions (MGMT-7, MGMT-8).

Staff sessions only (the console's session, CSRF-checked, TOTP-verified); the office is the signed-in
clerk's. Errors are ``{"code", "message"}``. Answers carry card serials and states, no personal data;
the default user code appears once, in the answer to the issuance.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.http import HttpRequest
from ninja import Field, Router, Schema

from neweid.server.accounts.access import require
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Capability
from neweid.server.api.auth import staff_auth
from neweid.server.api.errors import ErrorOut
from neweid.server.cards.ca import CitizenCa, get_citizen_ca
from neweid.server.cards.errors import WrongOfficeError
from neweid.server.cards.issuance import IssuanceChecks, do_issue_card
from neweid.server.cards.lookup import card_by_serial, card_history
from neweid.server.cards.models import Card, Collector
from neweid.server.cards.notify import Notifier, get_notifier
from neweid.server.cards.office import do_notify_cards, do_quality_check, do_receive_cards, pickup_roster
from neweid.server.cards.states import CardState
from neweid.server.registry.interface import HouseholdRegistry
from neweid.server.registry.wiring import household_registry

router = Router(tags=["cards"], auth=staff_auth)

# The external systems the views use; tests and deployments may replace them.
registry_factory: Callable[[], HouseholdRegistry] = household_registry
ca_factory: Callable[[], CitizenCa] = get_citizen_ca
notifier_factory: Callable[[], Notifier] = get_notifier
MAX_ROSTER = 5_000
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
          503: ErrorOut}


def staff_office(request: HttpRequest) -> Office:
    office = getattr(getattr(request.user, "staff_profile", None), "office", None)
    if not isinstance(office, Office):
        raise WrongOfficeError()
    return office


class RosterItem(Schema):
    serial: str
    state: str
    shipment: str
    batch: str
    reproduction: bool


class RosterOut(Schema):
    office: str
    count: int
    cards: list[RosterItem]


class CardOut(Schema):
    serial: str
    state: str
    state_changed_at: datetime.datetime
    pickup_office: str
    batch: str
    shipment: str
    issue_date: datetime.date
    renewal_date: datetime.date | None
    certificate_state: str
    certificate_not_after: datetime.datetime | None
    void_reason: str
    reproduction_of: str | None


class EventOut(Schema):
    from_state: str
    to_state: str
    at: str
    actor: str
    reason: str
    batch_ref: str


class ReceiveIn(Schema):
    serials: list[str] | None = None
    shipment: str | None = None


class CountOut(Schema):
    count: int


class QcIn(Schema):
    passed: list[str] = Field(default_factory=list)
    defective: dict[str, str] = Field(default_factory=dict)


class QcOut(Schema):
    passed: int
    defective: int
    voided: dict[str, int]
    certificates_revoked: int


class NotifyIn(Schema):
    serials: list[str] | None = None


class IssueIn(Schema):
    documents_checked: bool
    collector: Collector
    collector_id_number: str | None = None
    child_present: bool = False
    consent_document: bool = False
    stub_signed: bool = True


class IssueOut(Schema):
    serial: str
    state: str
    confirmed_at: datetime.datetime
    default_user_code: str
    old_cards_retained: int


def card_out(card: Card) -> CardOut:
    return CardOut(
        serial=card.serial, state=card.state, state_changed_at=card.state_changed_at,
        pickup_office=card.pickup_office.code, batch=card.batch.reference, shipment=card.shipment,
        issue_date=card.issue_date, renewal_date=card.renewal_date, certificate_state=card.certificate_state,
        certificate_not_after=card.certificate_not_after, void_reason=card.void_reason,
        reproduction_of=(Card.objects.filter(pk=card.reproduction_of_id).values_list("serial", flat=True)
                         .first() if card.reproduction_of_id else None))


@router.get("/roster", response={200: RosterOut, **ERRORS}, summary="The office's pickup roster")
def roster(request: HttpRequest, shipment: str | None = None,
           state: CardState = CardState.SHIPPED) -> RosterOut:
    require(request.user, Capability.OPERATE_CASES)
    office = staff_office(request)
    cards = pickup_roster(office, shipment=shipment, states=(state,)).select_related("batch")[:MAX_ROSTER]
    items = [RosterItem(serial=c.serial, state=c.state, shipment=c.shipment, batch=c.batch.reference,
                        reproduction=c.reproduction_of_id is not None) for c in cards]
    return RosterOut(office=office.code, count=len(items), cards=items)


@router.post("/receive", response={200: CountOut, **ERRORS}, summary="Count cards in (shipped → received)")
def receive(request: HttpRequest, body: ReceiveIn) -> CountOut:
    count = do_receive_cards(staff_office(request), acting_user=request.user, serials=body.serials,
                             shipment=body.shipment)
    return CountOut(count=count)


@router.post("/qc", response={200: QcOut, **ERRORS}, summary="Quality check of received cards")
def quality_check(request: HttpRequest, body: QcIn) -> QcOut:
    summary = do_quality_check(staff_office(request), acting_user=request.user, registry=registry_factory(),
                               ca=ca_factory(), passed=body.passed, defective=body.defective)
    return QcOut(passed=summary.passed, defective=summary.defective, voided=summary.voided,
                 certificates_revoked=summary.certificates_revoked)


@router.post("/notify", response={200: CountOut, **ERRORS}, summary="Notify citizens to collect")
def notify(request: HttpRequest, body: NotifyIn) -> CountOut:
    count = do_notify_cards(staff_office(request), acting_user=request.user, notifier=notifier_factory(),
                            serials=body.serials)
    return CountOut(count=count)


@router.post("/{serial}/issue", response={200: IssueOut, **ERRORS}, summary="Issue a card to the citizen")
def issue(request: HttpRequest, serial: str, body: IssueIn) -> IssueOut:
    checks = IssuanceChecks(documents_checked=body.documents_checked, collector=body.collector,
                            collector_id_number=body.collector_id_number, child_present=body.child_present,
                            consent_document=body.consent_document, stub_signed=body.stub_signed)
    result = do_issue_card(serial, office=staff_office(request), checks=checks, acting_user=request.user,
                           registry=registry_factory(), ca=ca_factory())
    return IssueOut(serial=result.card.serial, state=result.card.state,
                    confirmed_at=result.confirmation.confirmed_at, default_user_code=result.default_user_code,
                    old_cards_retained=result.confirmation.old_cards_retained)


@router.get("/{serial}", response={200: CardOut, **ERRORS}, summary="A card's status")
def status(request: HttpRequest, serial: str) -> CardOut:
    require(request.user, Capability.OPERATE_CASES)
    return card_out(card_by_serial(serial))


@router.get("/{serial}/history", response={200: list[EventOut], **ERRORS}, summary="A card's history")
def history(request: HttpRequest, serial: str) -> list[EventOut]:
    require(request.user, Capability.OPERATE_CASES)
    return [EventOut(**entry.__dict__) for entry in card_history(card_by_serial(serial))]
