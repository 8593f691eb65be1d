from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from neweid.server.cards.models import Collector

SERIAL_LIST_HELP = _("Card serials, one per line or separated by spaces.")


def parse_serials(text: str) -> list[str]:
    return [s for s in text.upper().split() if s]


class ReceiveForm(forms.Form):
    shipment = forms.CharField(label=_("Shipment"), max_length=48, required=False)
    serials = forms.CharField(label=_("Card serials"), widget=forms.Textarea(attrs={"rows": 4}),
                              required=False, help_text=SERIAL_LIST_HELP)


class QualityCheckForm(forms.Form):
    passed = forms.CharField(label=_("Cards that passed the check"), widget=forms.Textarea(attrs={"rows": 4}),
                             required=False, help_text=SERIAL_LIST_HELP)
    defective = forms.CharField(label=_("Defective cards (serial, a space, what is wrong; one per line)"),
                                widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def defects(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for line in self.cleaned_data.get("defective", "").splitlines():
            serial, _, note = line.strip().partition(" ")
            if serial:
                result[serial.upper()] = note.strip()
        return result


class NotifyForm(forms.Form):
    serials = forms.CharField(label=_("Card serials (empty: every card that passed)"),
                              widget=forms.Textarea(attrs={"rows": 3}), required=False)


class IssueForm(forms.Form):
    serial = forms.RegexField(label=_("Card serial"), regex=r"^\s*[A-Za-z]{2}[0-9]{7}\s*$")
    documents_checked = forms.BooleanField(label=_("Documents and household data checked"), required=False)
    collector = forms.ChoiceField(label=_("Collected by"), choices=Collector.choices)
    collector_id_number = forms.CharField(label=_("ID number of the representative or ascendant"),
                                          max_length=10, required=False)
    child_present = forms.BooleanField(label=_("The child is present"), required=False)
    consent_document = forms.BooleanField(label=_("Consent form or letter of authorisation"), required=False)
    stub_signed = forms.BooleanField(label=_("The citizen checked the card and signed the stub"),
                                     required=False)
