"""Console forms: find a citizen, take an application (labels translated; zh-Hant by default)."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from neweid.server.applications.models import (
    ApplicantRole,
    Channel,
    HomeServiceReason,
    Kind,
    ReplacementReason,
)
from neweid.server.applications.photo import MAX_PHOTO_BYTES

ID_NUMBER = r"^\s*[A-Za-z][0-9A-Da-d][0-9]{8}\s*$"  # whitelist (SEC-1); the check digit is checked later


class FindCitizenForm(forms.Form):
    id_number = forms.RegexField(label=_("ID number"), regex=ID_NUMBER, max_length=12,
                                 widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}))


def _optional(choices: Sequence[tuple[str, str | Promise]]) -> list[tuple[str, str | Promise]]:
    return [("", "—"), *choices]


class TakeApplicationForm(forms.Form):
    id_number = forms.RegexField(label=_("ID number"), regex=ID_NUMBER, max_length=12)
    channel = forms.ChoiceField(label=_("Channel"), choices=[c for c in Channel.choices
                                                             if c[0] != Channel.ONLINE])
    kind = forms.ChoiceField(label=_("Kind of application"), choices=Kind.choices,
                             initial=Kind.NATIONWIDE_REPLACEMENT)
    replacement_reason = forms.ChoiceField(label=_("Replacement reason"), required=False,
                                           choices=_optional(ReplacementReason.choices))
    applicant_role = forms.ChoiceField(label=_("Applicant"), choices=ApplicantRole.choices,
                                       initial=ApplicantRole.SELF)
    applicant_id_number = forms.RegexField(label=_("ID number of the representative or proxy"),
                                           regex=ID_NUMBER, max_length=12, required=False)
    applicant_id_checked = forms.BooleanField(label=_("Identity document of the representative or proxy "
                                                      "checked"), required=False)
    power_of_attorney = forms.BooleanField(label=_("Power of attorney"), required=False)
    other_parent_consent = forms.BooleanField(label=_("Consent form of the other parent"), required=False)
    other_parent_present = forms.BooleanField(label=_("Both parents present"), required=False)
    home_service_reason = forms.ChoiceField(label=_("Reason for home service"), required=False,
                                            choices=_optional(HomeServiceReason.choices))
    certificate_opt_in = forms.BooleanField(label=_("Attach the citizen certificate"), required=False,
                                            initial=True)
    contact_email = forms.EmailField(label=_("E-mail for the pickup notice"), required=False, max_length=254)
    contact_phone = forms.RegexField(label=_("Mobile phone for the pickup notice"),
                                     regex=r"^\+?[0-9 -]{8,20}$", required=False, max_length=20)
    photo = forms.FileField(label=_("Photo (JPEG, at most 5 MB, at least 826 × 1062 pixels)"),
                            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg"}))

    def clean_photo(self) -> bytes:
        upload = self.cleaned_data["photo"]
        if upload.size is None or upload.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(_("The photo must not be larger than 5 MB."), code="P202")
        data: bytes = upload.read()
        return data
