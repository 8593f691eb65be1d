"""Console pages: "receive and check cards" (roster, receive, QC, notify) and "issue a card". Thin: validate
the form, call one action, render."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from neweid.server.cards import api
from neweid.server.cards.forms import IssueForm, NotifyForm, QualityCheckForm, ReceiveForm, parse_serials
from neweid.server.cards.issuance import IssuanceChecks, do_issue_card
from neweid.server.cards.models import Collector
from neweid.server.cards.office import do_notify_cards, do_quality_check, do_receive_cards, pickup_roster
from neweid.server.cards.states import CardState
from neweid.server.console.views import staff_required
from neweid.server.errors import ServerError


def _roster_context(request: HttpRequest) -> dict[str, Any]:
    office = api.staff_office(request)
    return {
        "office": office,
        "shipped": list(pickup_roster(office).select_related("batch")[:api.MAX_ROSTER]),
        "received": list(pickup_roster(office, states=(CardState.RECEIVED,))[:api.MAX_ROSTER]),
        "passed": list(pickup_roster(office, states=(CardState.QC_PASSED,))[:api.MAX_ROSTER]),
    }


@staff_required
@require_http_methods(["GET", "POST"])
def receive_view(request: HttpRequest) -> HttpResponse:
    """Download the roster, count cards in, record QC verdicts, notify citizens."""
    action = request.POST.get("action", "")
    receive_form = ReceiveForm(request.POST if action == "receive" else None)
    qc_form = QualityCheckForm(request.POST if action == "qc" else None)
    notify_form = NotifyForm(request.POST if action == "notify" else None)
    context: dict[str, Any] = {"receive_form": receive_form, "qc_form": qc_form, "notify_form": notify_form}
    status = 200
    try:
        office = api.staff_office(request)
        if action == "receive" and receive_form.is_valid():
            serials = parse_serials(receive_form.cleaned_data["serials"])
            shipment = receive_form.cleaned_data["shipment"] or None
            context["done"] = ("receive", do_receive_cards(office, acting_user=request.user,
                                                           serials=serials or None, shipment=shipment))
        elif action == "qc" and qc_form.is_valid():
            summary = do_quality_check(office, acting_user=request.user, registry=api.registry_factory(),
                                       ca=api.ca_factory(),
                                       passed=parse_serials(qc_form.cleaned_data["passed"]),
                                       defective=qc_form.defects())
            context["qc"] = summary
        elif action == "notify" and notify_form.is_valid():
            serials = parse_serials(notify_form.cleaned_data["serials"])
            context["done"] = ("notify", do_notify_cards(office, acting_user=request.user,
                                                         notifier=api.notifier_factory(),
                                                         serials=serials or None))
        context.update(_roster_context(request))
    except ServerError as exc:
        context["error"] = exc
        status = exc.http_status
    return render(request, "cards/receive.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def issue_view(request: HttpRequest) -> HttpResponse:
    """Issue a card: the checks of table 14, then the pickup confirmation with the default user code."""
    form = IssueForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        checks = IssuanceChecks(documents_checked=data["documents_checked"],
                                collector=Collector(data["collector"]),
                                collector_id_number=(data["collector_id_number"] or "").strip().upper()
                                or None,
                                child_present=data["child_present"],
                                consent_document=data["consent_document"],
                                stub_signed=data["stub_signed"])
        try:
            result = do_issue_card(data["serial"].strip().upper(), office=api.staff_office(request),
                                   checks=checks, acting_user=request.user, registry=api.registry_factory(),
                                   ca=api.ca_factory())
        except ServerError as exc:
            context["error"] = exc
            status = exc.http_status
        else:
            context["result"] = result  # the default user code is shown on this page only, once
    elif request.method == "POST":
        status = 400
    response = render(request, "cards/issue.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response
