"""Console pages: find a citizen (via the registry interface) and take an application. Thin: validate the
form, call one service, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from neweid.population.validity import age_on
from neweid.server.applications import actions
from neweid.server.applications.forms import FindCitizenForm, TakeApplicationForm
from neweid.server.applications.models import (
    ApplicantRole,
    Application,
    Channel,
    HomeServiceReason,
    Kind,
    ReplacementReason,
)
from neweid.server.applications.rules import ApplicationInput, Documents
from neweid.server.audit.log import record
from neweid.server.audit.models import AuditResult
from neweid.server.console.views import staff_required
from neweid.server.errors import ServerError
from neweid.server.registry.interface import HouseholdRegistry
from neweid.server.registry.wiring import household_registry


def registry() -> HouseholdRegistry:
    """The registry the console uses (tests may replace this function)."""
    return household_registry()


@staff_required
@require_http_methods(["GET", "POST"])
def find_citizen_view(request: HttpRequest) -> HttpResponse:
    """Look a citizen up by ID number. The search is a POST, so that ID numbers never appear in URLs,
    browser history or access logs (SEC-1, SEC-3); every lookup is audited without the number."""
    form = FindCitizenForm(request.POST if request.method == "POST" else None)
    context: dict[str, object] = {"form": form}
    if form.is_valid():
        id_number = form.cleaned_data["id_number"].strip().upper()
        try:
            actions.staff_office(request.user)
            person = registry().person(id_number)
        except ServerError as exc:
            context["error"] = exc
            record("applications.find_citizen", result=AuditResult.FAILURE, object_type="person",
                   error_code=str(exc.code))
        else:
            record("applications.find_citizen", object_type="person")
            context["person"] = person
            context["age"] = age_on(person.birth_date, timezone.localdate(person.as_of))
            context["applications"] = (Application.objects.defer("photo")
                                       .filter(person__id_number=id_number).order_by("-submitted_at")[:10])
    status = 200
    if "error" in context:
        status = getattr(context["error"], "http_status", 400)
    return render(request, "applications/find_citizen.html", context, status=status)


def _input(data: dict[str, object]) -> ApplicationInput:
    def opt(key: str) -> str | None:
        value = data.get(key)
        return str(value) if value else None

    reason, home = opt("replacement_reason"), opt("home_service_reason")
    photo = data["photo"]
    assert isinstance(photo, bytes)
    return ApplicationInput(
        id_number=str(data["id_number"]).strip().upper(), channel=Channel(str(data["channel"])),
        kind=Kind(str(data["kind"])), photo=photo,
        replacement_reason=ReplacementReason(reason) if reason else None,
        applicant_role=ApplicantRole(str(data["applicant_role"])),
        applicant_id_number=(opt("applicant_id_number") or "").strip().upper() or None,
        documents=Documents(applicant_id_checked=bool(data["applicant_id_checked"]),
                            power_of_attorney=bool(data["power_of_attorney"]),
                            other_parent_consent=bool(data["other_parent_consent"]),
                            other_parent_present=bool(data["other_parent_present"])),
        certificate_opt_in=bool(data["certificate_opt_in"]),
        home_service_reason=HomeServiceReason(home) if home else None,
        contact_email=str(data.get("contact_email") or ""),
        contact_phone=str(data.get("contact_phone") or ""))


@staff_required
@require_http_methods(["GET", "POST"])
def take_application_view(request: HttpRequest) -> HttpResponse:
    prefill = request.method == "POST" and request.POST.get("step") == "prefill"
    if prefill:  # from the citizen lookup: the ID number comes in the body, never in the URL
        form = TakeApplicationForm(initial={"id_number": request.POST.get("id_number", "")[:12]})
    elif request.method == "POST":
        form = TakeApplicationForm(request.POST, request.FILES)
    else:
        form = TakeApplicationForm()
    error: ServerError | None = None
    if request.method == "POST" and not prefill and form.is_valid():
        try:
            application = actions.do_submit_application(_input(form.cleaned_data), acting_user=request.user,
                                                        registry=registry())
        except ServerError as exc:
            error = exc
        else:
            return redirect("applications:detail", application_id=application.pk)
    status = error.http_status if error is not None else (400 if form.errors else 200)
    return render(request, "applications/take_application.html", {"form": form, "error": error},
                  status=status)


@staff_required
@require_http_methods(["GET"])
def application_detail_view(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        office = actions.staff_office(request.user)
    except ServerError as exc:
        return render(request, "console/error.html", {"code": exc.code.value, "message": exc.message},
                      status=exc.http_status)
    application = (Application.objects.defer("photo").select_related("person", "office", "pickup_office")
                   .filter(pk=application_id, office=office).first())
    if application is None:
        return render(request, "console/error.html", {"code": "E404", "message": ""}, status=404)
    return render(request, "applications/application_detail.html", {"application": application})
