"""zh-Hant by default, English on request; the shipped .mo matches its .po."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.test import Client

import neweid.server

LOCALE = Path(neweid.server.__file__).parent / "locale"


def _read_po(path: Path) -> dict[str, str]:
    """msgid → msgstr of a simple .po file (no plurals, no contexts)."""
    entries: dict[str, str] = {}
    current: dict[str, list[str]] = {}
    key = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith(("msgid ", "msgstr ")):
            key, _, rest = line.partition(" ")
            if key == "msgid" and "msgstr" in current:
                entries["".join(current["msgid"])] = "".join(current["msgstr"])
                current = {}
            current[key] = [ast.literal_eval(rest)]
        elif line.startswith('"'):
            current[key].append(ast.literal_eval(line))
    if "msgstr" in current:
        entries["".join(current["msgid"])] = "".join(current["msgstr"])
    entries.pop("", None)
    return entries


def test_compiled_catalogue_matches_its_source() -> None:
    po = LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    entries = _read_po(po)
    assert len(entries) > 40
    assert all(entries.values()), "every message is translated"
    with mo.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for msgid, msgstr in entries.items():
        assert catalogue.gettext(msgid) == msgstr, f"stale .mo: run msgfmt for {msgid!r}"


def test_every_template_string_is_in_the_catalogue() -> None:
    entries = _read_po(LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.po")
    templates = Path(neweid.server.__file__).parent / "console" / "templates"
    for template in templates.rglob("*.html"):
        for msgid in re.findall(r'{% translate "([^"]+)" %}', template.read_text(encoding="utf-8")):
            assert msgid in entries, f"{template.name}: {msgid!r} has no translation"


@pytest.mark.django_db
def test_zh_hant_is_the_default(client: Client) -> None:
    html = client.get("/login/").content.decode()
    assert "工作人員登入" in html
    assert 'lang="zh-Hant"' in html


@pytest.mark.django_db
def test_english_on_request(client: Client) -> None:
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Staff sign-in" in html
    assert 'lang="en"' in html


@pytest.mark.django_db
def test_language_switch_is_kept(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert "Staff sign-in" in client.get("/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/login/"})
    assert "工作人員登入" in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_error_messages_are_translated(client: Client) -> None:
    html = client.post("/login/", {"username": "x", "password": "y", "otp_token": "123456"}).content.decode()
    assert "帳號、密碼或驗證碼不正確" in html
