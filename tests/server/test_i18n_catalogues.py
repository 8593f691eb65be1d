"""The zh-Hant catalogues of the server: every msgid the code uses is in its catalogue and translated, each
compiled .mo matches its .po, placeholders survive translation, and a message shared by catalogues reads
the same in all of them (Django merges them; the first one found would win silently)."""

from __future__ import annotations

import ast
import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import neweid.server

SERVER = Path(neweid.server.__file__).parent
PROJECT = SERVER / "locale"
# Source folders → the catalogue that holds their messages (an app with its own catalogue keeps its
# messages there; the console and the platform's modules use the project catalogue).
CATALOGUES: dict[str, Path] = {
    "console": PROJECT, "accounts": PROJECT, "api": PROJECT, "errors.py": PROJECT,
    "applications": SERVER / "applications" / "locale",
    "cards": SERVER / "cards" / "locale",
    "exchange": SERVER / "exchange" / "locale",
    "operations": SERVER / "operations" / "locale",
    "registry": SERVER / "registry" / "locale",
}
GETTEXT_FUNCTIONS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgstr: str
    plural: str | None = None


def read_po(path: Path) -> dict[str, Entry]:
    """The entries of a .po file (msgid, msgid_plural, msgstr / msgstr[0]; no contexts), header left out."""
    entries: dict[str, Entry] = {}
    current: dict[str, str] = {}
    key = ""

    def flush() -> None:
        if current.get("msgid"):
            msgstr = current.get("msgstr", current.get("msgstr[0]", ""))
            entries[current["msgid"]] = Entry(current["msgid"], msgstr, current.get("msgid_plural"))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(("msgid ", "msgid_plural ", "msgstr ", "msgstr[")):
            key, _, rest = line.partition(" ")
            if key == "msgid":
                flush()
                current = {}
            current[key] = ast.literal_eval(rest)
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
        elif line.startswith("msgctxt"):
            raise AssertionError(f"{path}: contexts are not used in these catalogues")
    flush()
    return entries


def po_files() -> list[Path]:
    return sorted(SERVER.glob("**/locale/zh_Hant/LC_MESSAGES/django.po"))


def _python_msgids(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in GETTEXT_FUNCTIONS and node.args):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield first.value


TRANSLATE = re.compile(r'{%\s*translate\s+"((?:[^"\\]|\\.)*)"')
BLOCK = re.compile(r"{%\s*blocktranslate\b([^%]*)%}(.*?){%\s*endblocktranslate\s*%}", re.DOTALL)
VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")


def _template_msgids(path: Path) -> Iterator[str]:
    text = path.read_text(encoding="utf-8")
    yield from TRANSLATE.findall(text)
    for _options, body in BLOCK.findall(text):
        singular = re.split(r"{%\s*plural\s*%}", body)[0]
        yield VARIABLE.sub(r"%(\1)s", singular)


def used_msgids(source: str) -> set[str]:
    root = SERVER / source
    files = [root] if root.is_file() else sorted(root.rglob("*"))
    found: set[str] = set()
    for path in files:
        if path.suffix == ".py" and "migrations" not in path.parts:
            found.update(_python_msgids(path))
        elif path.suffix == ".html":
            found.update(_template_msgids(path))
    return found


def test_the_catalogues_are_found() -> None:
    found = {path.parents[2] for path in po_files()}
    assert set(CATALOGUES.values()) <= found


@pytest.mark.parametrize("source", sorted(CATALOGUES))
def test_every_message_used_is_in_its_catalogue(source: str) -> None:
    entries = read_po(CATALOGUES[source] / "zh_Hant" / "LC_MESSAGES" / "django.po")
    used = used_msgids(source)
    assert used, f"no messages found in {source}: is the scan broken?"
    missing = sorted(used - set(entries))
    assert not missing, f"{source}: not in its catalogue (run makemessages and translate): {missing}"


@pytest.mark.parametrize("po", po_files(), ids=lambda p: str(p.relative_to(SERVER).parts[0]))
def test_every_message_is_translated_with_its_placeholders(po: Path) -> None:
    entries = read_po(po)
    assert entries
    for entry in entries.values():
        assert entry.msgstr.strip(), f"{po}: {entry.msgid!r} has no translation"
        assert entry.msgstr != entry.msgid or not re.search(r"[A-Za-z]{3}", entry.msgid), \
            f"{po}: {entry.msgid!r} is left in English"
        assert set(PLACEHOLDER.findall(entry.msgstr)) == set(PLACEHOLDER.findall(entry.msgid)), \
            f"{po}: {entry.msgid!r}: the placeholders differ"


@pytest.mark.parametrize("po", po_files(), ids=lambda p: str(p.relative_to(SERVER).parts[0]))
def test_each_compiled_catalogue_matches_its_source(po: Path) -> None:
    entries = read_po(po)
    with po.with_suffix(".mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for entry in entries.values():
        if entry.plural is None:
            assert catalogue.gettext(entry.msgid) == entry.msgstr, f"stale .mo ({po}): {entry.msgid!r}"
        else:
            for n in (1, 2):
                assert catalogue.ngettext(entry.msgid, entry.plural, n) == entry.msgstr, \
                    f"stale .mo ({po}): {entry.msgid!r}"
    compiled = {key[0] if isinstance(key, tuple) else key for key in catalogue._catalog}  # type: ignore[attr-defined]
    assert compiled - {""} == set(entries), f"{po}: the .mo has other messages than the .po"


def test_a_message_shared_by_catalogues_reads_the_same() -> None:
    seen: dict[str, tuple[str, Path]] = {}
    for po in po_files():
        for entry in read_po(po).values():
            earlier = seen.setdefault(entry.msgid, (entry.msgstr, po))
            assert earlier[0] == entry.msgstr, \
                f"{entry.msgid!r}: {earlier[0]!r} in {earlier[1]} but {entry.msgstr!r} in {po}"


@pytest.mark.parametrize(("msgid", "expected"), [
    ("Report the loss", "申報掛失"), ("Revoke the loss report", "撤銷掛失"),
    ("Temporary certificate", "臨時證明書"), ("Defective", "瑕疵卡"), ("Voided", "已註銷"),
    ("Destroyed", "已銷毀"), ("Recalled", "召回"), ("Replaced", "已換發新證"),
])
def test_official_terms(msgid: str, expected: str) -> None:
    translated = {entry.msgid: entry.msgstr for po in po_files() for entry in read_po(po).values()}
    assert translated[msgid] == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("msgid", "expected"), [
    ("Shipment", "配送批號"),  # cards
    ("Report a lost card", "國民身分證掛失"),  # operations
    ("Defective cards back to the production centre", "瑕疵卡退回製卡中心"),  # operations: choice labels
    ("Production centre", "製卡中心"),  # exchange
    ("The household registration system is not available.", "戶役政資訊系統目前無法連線。"),  # registry
    ("Audit chain", "稽核軌跡鏈"),  # console (project)
])
def test_django_loads_the_app_catalogues(msgid: str, expected: str) -> None:
    from django.utils import translation

    with translation.override("zh-hant"):
        assert translation.gettext(msgid) == expected
    with translation.override("en"):
        assert translation.gettext(msgid) == msgid


@pytest.mark.parametrize("app", ["operations", "exchange"])
def test_choice_labels_are_translated(app: str) -> None:
    import importlib
    import inspect

    from django.db import models
    from django.utils import translation

    module = importlib.import_module(f"neweid.server.{app}.models")
    choices = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
               if issubclass(cls, models.TextChoices) and cls.__module__ == module.__name__]
    assert choices
    with translation.override("zh-hant"):
        untranslated = [f"{cls.__name__}.{member.name}" for cls in choices for member in cls
                        if not re.search(r"[\u4e00-\u9fff]", str(member.label))]
    assert not untranslated, f"choice labels without a zh-Hant translation: {untranslated}"
