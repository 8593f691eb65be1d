"""Password validators of the staff policy (SEC-1): four character classes, none of the last five."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """At least one upper-case letter, one lower-case letter, one digit and one symbol."""

    def validate(self, password: str, user: Any = None) -> None:
        missing = []
        if not any(c.isupper() for c in password):
            missing.append(_("an upper-case letter"))
        if not any(c.islower() for c in password):
            missing.append(_("a lower-case letter"))
        if not any(c.isdigit() for c in password):
            missing.append(_("a digit"))
        if not any(not c.isalnum() and not c.isspace() for c in password):
            missing.append(_("a symbol"))
        if missing:
            message = _("The password must contain %(missing)s.") % {"missing": ", ".join(missing)}
            raise ValidationError(message, code="password_missing_character_class")

    def get_help_text(self) -> str:
        return _("Your password must contain upper-case and lower-case letters, digits and symbols.")


class PasswordHistoryValidator:
    """Refuses any of the user's last ``history`` passwords (kept as hashes in PasswordHistory)."""

    def __init__(self, history: int = 5) -> None:
        self.history = history

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        from neweid.server.accounts.models import PasswordHistory

        recent = list(PasswordHistory.objects.filter(user_id=user.pk)
                      .values_list("encoded", flat=True)[: self.history])
        if user.password and user.has_usable_password():
            recent.append(user.password)
        if any(check_password(password, encoded) for encoded in recent):
            raise ValidationError(
                _("The password must differ from your last %(count)d passwords.") % {"count": self.history},
                code="password_reused")

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None or not user.has_usable_password():
            return
        from neweid.server.accounts.models import PasswordHistory

        PasswordHistory.objects.create(user_id=user.pk, encoded=user.password)
        stale = PasswordHistory.objects.filter(user_id=user.pk).values_list("pk", flat=True)[self.history:]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self) -> str:
        return _("Your password must differ from your last %(count)d passwords.") % {"count": self.history}
