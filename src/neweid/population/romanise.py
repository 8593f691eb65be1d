"""Romanised names as printed on Taiwanese passports and the card face (CARD-1): ``SURNAME, GIVEN-NAME``.

Two systems, as the Ministry of Foreign Affairs accepts both: Hanyu Pinyin (``CHEN, JIA-HAO``) and
Wade-Giles without apostrophes or umlauts, the form most Taiwanese passports carry (``CHEN, CHIA-HAO``).
Syllables come from the pinyin table ``neweid/data/tw_name_pinyin.csv`` (toneless, ü written ``v``);
Wade-Giles is derived from the pinyin syllable by rule.
"""

from __future__ import annotations

from enum import StrEnum

from neweid.population.data import pinyin_table
from neweid.population.errors import PopulationError


class RomanisationSystem(StrEnum):
    HANYU_PINYIN = "hanyu-pinyin"
    WADE_GILES = "wade-giles"


_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x",
             "r", "z", "c", "s", "y", "w")
_WG_INITIALS = {"zh": "ch", "b": "p", "d": "t", "g": "k", "j": "ch", "q": "ch", "x": "hs", "r": "j",
                "z": "ts", "c": "ts"}
_WG_WHOLE = {
    "zhi": "chih", "chi": "chih", "shi": "shih", "ri": "jih", "zi": "tzu", "ci": "tzu", "si": "ssu",
    "er": "erh", "e": "o", "you": "yu", "yan": "yen", "ye": "yeh", "yong": "yung", "yue": "yueh",
    "lv": "lu", "nv": "nu", "lve": "lueh", "nve": "nueh",
}
_WG_FINALS = {"ong": "ung", "iong": "iung", "ian": "ien", "ie": "ieh", "ue": "ueh", "ve": "ueh"}


def _split(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial):]
    return "", syllable


def wade_giles(syllable: str) -> str:
    """Passport-style Wade-Giles (no apostrophes, no umlauts) of a toneless pinyin syllable, lower case."""
    syllable = syllable.lower()
    if not syllable.isascii() or not syllable.isalpha():
        raise PopulationError(f"not a pinyin syllable: {syllable!r}")
    if syllable in _WG_WHOLE:
        return _WG_WHOLE[syllable]
    initial, final = _split(syllable)
    if final in _WG_FINALS:
        final = _WG_FINALS[final]
    elif final == "e" and initial in ("g", "k", "h"):
        final = "o"  # ge, ke, he -> ko, ko, ho
    elif final == "uo" and initial not in ("g", "k", "h", "sh"):
        final = "o"  # luo, zhuo, duo -> lo, cho, to; guo, huo, shuo keep uo
    elif final == "ui" and initial in ("g", "k"):
        final = "uei"  # gui -> kuei
    final = final.replace("v", "u")
    return _WG_INITIALS.get(initial, initial) + final


def hanyu_pinyin(syllable: str) -> str:
    """Passport-style Hanyu Pinyin of a toneless syllable: ü (``v``) is written ``yu`` (呂 LYU)."""
    syllable = syllable.lower()
    if not syllable.isascii() or not syllable.isalpha():
        raise PopulationError(f"not a pinyin syllable: {syllable!r}")
    return syllable.replace("v", "yu")


def syllables(text: str) -> list[str]:
    """The toneless pinyin of each character of ``text`` (characters beyond the BMP included)."""
    table = pinyin_table()
    try:
        return [table[char] for char in text]
    except KeyError as exc:
        raise PopulationError(f"no romanisation for the character {exc.args[0]!r}") from None


def romanise_name(surname: str, given_name: str, system: RomanisationSystem) -> str:
    """``SURNAME, GIVEN-NAME`` in upper case, given-name syllables joined by hyphens."""
    if not surname or not given_name:
        raise PopulationError("surname and given name must not be empty")
    convert = wade_giles if system is RomanisationSystem.WADE_GILES else hanyu_pinyin
    family = "".join(convert(s) for s in syllables(surname)).upper()
    given = "-".join(convert(s) for s in syllables(given_name)).upper()
    return f"{family}, {given}"
