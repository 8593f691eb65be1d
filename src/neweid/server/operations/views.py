"""Console pages of the operations app: report a loss (or revoke it), issue and print a temporary
certificate record. Thin: validate the form, call one action, render."""

from __future__ import annotations

import base64
import io

import qrcode  # type: ignore[import-untyped]  # no stubs published
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from neweid.server.console.views import staff_required
from neweid.server.errors import NotFoundError, ServerError
from neweid.server.operations import loss, temporary
from neweid.server.operations.forms import LossForm, TemporaryCertificateForm
from neweid.server.operations.models import LossChannel, LossReport, TemporaryCertificate
from neweid.server.operations.serials import display
from neweid.server.operations.staff import staff_office
from neweid.server.registry.models import Person


def _person(id_number: str) -> Person:
    person = Person.objects.filter(id_number=id_number.upper()).first()
    if person is None:
        raise NotFoundError()
    return person


@staff_required
@require_http_methods(["GET", "POST"])
def report_loss_view(request: HttpRequest) -> HttpResponse:
    form = LossForm(request.POST or None)
    error: ServerError | None = None
    report: LossReport | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = _person(data["id_number"])
            reporter = _person(data["reporter_id_number"]) if data["reporter_id_number"] else None
            action = loss.do_report_loss if data["action"] == "report" else loss.do_revoke_loss
            report = action(person, channel=LossChannel(data["channel"]), reporter=reporter,
                            acting_user=request.user)
        except ServerError as exc:
            error = exc
    status = error.http_status if error is not None else (400 if form.errors else 200)
    return render(request, "operations/report_loss.html", {"form": form, "error": error, "report": report},
                  status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def issue_temporary_certificate_view(request: HttpRequest) -> HttpResponse:
    form = TemporaryCertificateForm(request.POST or None)
    error: ServerError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            certificate = temporary.do_issue_temporary_certificate(
                form.cleaned_data["application_id"], acting_user=request.user,
                notes=form.cleaned_data["notes"], days=form.cleaned_data["days"])
        except ServerError as exc:
            error = exc
        else:
            return redirect("operations:temporary_certificate", certificate_id=certificate.pk)
    status = error.http_status if error is not None else (400 if form.errors else 200)
    return render(request, "operations/issue_temporary_certificate.html", {"form": form, "error": error},
                  status=status)


def _qr_data_uri(url: str) -> str:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=2)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def status_page_url(request: HttpRequest, serial: str) -> str:
    try:
        path = reverse("api:temporary_certificate_status", args=[display(serial)])
    except NoReverseMatch:  # the API is not mounted (a test URL configuration)
        path = f"/api/temporary-certificates/status/{display(serial)}"
    return request.build_absolute_uri(path)


@staff_required
def temporary_certificate_view(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """The record for printing (A4/A5, DOC-1); the PDF document comes with the documents package."""
    try:
        office = staff_office(request.user)
    except ServerError as exc:
        return render(request, "console/error.html", {"code": exc.code.value, "message": exc.message},
                      status=exc.http_status)
    certificate = (TemporaryCertificate.objects.select_related("application", "office")
                   .filter(pk=certificate_id, office=office).first())
    if certificate is None:  # another office's record: missing and forbidden alike
        return render(request, "console/error.html",
                      {"code": "E404", "message": NotFoundError.default_message}, status=404)
    url = status_page_url(request, certificate.serial)
    photo = bytes(certificate.application.photo or b"")
    context = {
        "certificate": certificate, "serial": display(certificate.serial), "status_url": url,
        "qr": _qr_data_uri(url),
        "photo": "data:image/jpeg;base64," + base64.b64encode(photo).decode("ascii") if photo else "",
        "state": temporary.verify_temporary_certificate(certificate.serial).state.value,
    }
    response = render(request, "operations/temporary_certificate.html", context)
    response["Cache-Control"] = "no-store"  # personal data: not kept by the browser
    return response
