from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SignInForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label=_("Password"), max_length=256, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    otp_token = forms.RegexField(label=_("Verification code"), regex=r"^\s*\d{6,8}\s*$",
                                 widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                               "inputmode": "numeric"}))
