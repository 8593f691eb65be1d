"""Console forms of the operations app (server-side whitelist validation, SEC-1)."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from neweid.server.operations.models import LossChannel

ID_NUMBER = RegexValidator(r"^[A-Za-z][0-9A-Da-d][0-9]{8}$", _("Enter a valid ID number."))
STAFF_CHANNELS = [(c.value, c.label)
                  for c in (LossChannel.COUNTER, LossChannel.PHONE, LossChannel.HOTLINE_1996)]
ACTIONS = [("report", _("Report the loss")), ("revoke", _("Revoke the loss report"))]


class LossForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS, initial="report")
    id_number = forms.CharField(label=_("ID number of the card holder"), max_length=10,
                                validators=[ID_NUMBER])
    channel = forms.ChoiceField(label=_("Channel"), choices=STAFF_CHANNELS, initial=LossChannel.COUNTER.value)
    reporter_id_number = forms.CharField(label=_("ID number of the legal representative (if not the holder)"),
                                         max_length=10, required=False, validators=[ID_NUMBER])


class TemporaryCertificateForm(forms.Form):
    application_id = forms.IntegerField(label=_("Application number"), min_value=1)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=90, initial=30)
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False, widget=forms.Textarea)
