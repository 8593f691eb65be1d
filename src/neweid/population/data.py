"""Reference data for the synthetic population, loaded once from ``neweid/data`` (see its README.md for
sources and licences): administrative divisions, village populations, surname ranking and given names.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from neweid.formats.sex import Sex
from neweid.population.errors import ReferenceDataError

_PACKAGE = "neweid"
_DIRECTORY = "data"


@dataclass(frozen=True)
class County:
    code: str  # 5 digits
    name_zh: str
    name_en: str
    id_letter: str  # first letter of ID numbers first registered there


@dataclass(frozen=True)
class Township:
    code: str  # 8 digits
    county_code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Village:
    code: str  # 11-digit MOI village code
    township_code: str
    name_zh: str
    population: int  # registered population, 2026-08


@dataclass(frozen=True)
class WeightedTable:
    """Items with cumulative weights, ready for ``random.Random.choices(..., cum_weights=...)``."""

    items: tuple[str, ...]
    cum_weights: tuple[float, ...]


def read_text(name: str) -> str:
    """The text of a file in ``neweid/data``."""
    try:
        return resources.files(_PACKAGE).joinpath(_DIRECTORY, name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"cannot read reference data file {name}: {exc}") from exc


def _rows(name: str) -> Iterator[dict[str, str]]:
    yield from csv.DictReader(io.StringIO(read_text(name), newline=""))


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ReferenceDataError(f"{name}: {value!r} is not an integer") from None


@cache
def counties() -> dict[str, County]:
    """The 22 counties and cities by 5-digit code."""
    return {r["code"]: County(r["code"], r["name_zh"], r["name_en"], r["id_letter"])
            for r in _rows("tw_counties.csv")}


@cache
def townships() -> dict[str, Township]:
    """The 368 townships by 8-digit code."""
    return {r["code"]: Township(r["code"], r["county_code"], r["name_zh"], r["name_en"])
            for r in _rows("tw_townships.csv")}


@cache
def villages() -> tuple[Village, ...]:
    """Villages present both in the 2023 NLSC list (names) and the 2026-08 population file (weights).

    Names come from ``tw_villages.csv`` (proper Unicode, no Private Use Area characters); villages created
    after 2023 outside the four northern municipalities have no name there and are left out (0.7 % of the
    population, README.md).
    """
    names = {r["code"]: (r["township_code"], r["name_zh"]) for r in _rows("tw_villages.csv")}
    known_townships = townships()
    result: list[Village] = []
    for row in _rows("tw_village_population_2026_08.csv"):
        code = row["code"]
        if code not in names:
            continue
        township_code, name = names[code]
        if township_code not in known_townships:
            raise ReferenceDataError(f"village {code} names an unknown township {township_code}")
        population = _int(row["population"], "tw_village_population_2026_08.csv")
        if population > 0:
            result.append(Village(code, township_code, name, population))
    if not result:
        raise ReferenceDataError("no village has a population")
    return tuple(result)


@cache
def village_table() -> tuple[tuple[Village, ...], tuple[float, ...]]:
    """Villages with cumulative population weights."""
    items = villages()
    cumulative: list[float] = []
    total = 0.0
    for village in items:
        total += village.population
        cumulative.append(total)
    return items, tuple(cumulative)


def _surname_figures() -> dict[str, float]:
    data: dict[str, Any] = json.loads(read_text("tw_surname_stats.json"))
    latest: dict[str, tuple[str, float]] = {}
    for figure in data["figures"]:
        if "share_pct" not in figure:
            continue
        key = figure.get("surname") or figure["metric"]
        as_of = str(figure["as_of"])
        if key not in latest or as_of > latest[key][0]:
            latest[key] = (as_of, float(figure["share_pct"]))
    return {key: share for key, (_, share) in latest.items()}


SURNAME_RANK_SHIFT = 10  # b in A * (rank + b) ** -a; keeps ranks 4-100 below rank 3 and decreasing


def _power_law_exponent(ratio: float, head: range, tail: range, shift: float) -> float:
    """The exponent a with sum((r+shift)^-a, tail) / sum((r+shift)^-a, head) == ratio, by bisection."""

    def f(a: float) -> float:
        tail_sum = sum(math.pow(r + shift, -a) for r in tail)
        head_sum = sum(math.pow(r + shift, -a) for r in head)
        return tail_sum / head_sum - ratio

    low, high = 0.0, 20.0
    if f(low) < 0 or f(high) > 0:
        raise ReferenceDataError("surname statistics cannot be fitted by a power law")
    for _ in range(100):
        middle = (low + high) / 2
        if f(middle) > 0:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@cache
def surname_weights() -> tuple[tuple[str, float], ...]:
    """The top-100 surnames with their estimated share of the population, in percent.

    Calibration (tw_surname_stats.json): ranks 1-3 take their published shares (陳 11.14 %, 林 8.31 %,
    黃 6.05 %); ranks 4-100 follow a Zipf-Mandelbrot curve ``A * (rank + b) ** -a`` with the shift b fixed
    (SURNAME_RANK_SHIFT) and A and a fitted so that the top 10 add up to the published top-10 share and
    the top 100 to the top-100 share. The remaining ~3.4 % (rarer surnames) is not generated.
    """
    ranked = [r["surname"] for r in sorted(_rows("tw_surnames.csv"), key=lambda r: _int(r["rank"], "rank"))]
    if len(ranked) != 100:
        raise ReferenceDataError(f"tw_surnames.csv has {len(ranked)} surnames, expected 100")
    figures = _surname_figures()
    try:
        heads = [figures[name] for name in ranked[:3]]
        top10, top100 = figures["top10_total"], figures["top100_total"]
    except KeyError as exc:
        raise ReferenceDataError(f"tw_surname_stats.json lacks the figure {exc}") from None
    head_range, tail_range = range(4, 11), range(11, 101)
    b = SURNAME_RANK_SHIFT
    exponent = _power_law_exponent((top100 - top10) / (top10 - sum(heads)), head_range, tail_range, b)
    scale = (top10 - sum(heads)) / sum(math.pow(r + b, -exponent) for r in head_range)
    shares = heads + [scale * math.pow(r + b, -exponent) for r in range(4, 101)]
    if not all(math.isfinite(s) and s > 0 for s in shares):
        raise ReferenceDataError("surname calibration produced a non-positive share")
    return tuple(zip(ranked, shares, strict=True))


def _cumulative(pairs: list[tuple[str, float]]) -> WeightedTable:
    total = 0.0
    cumulative: list[float] = []
    for _, weight in pairs:
        total += weight
        cumulative.append(total)
    return WeightedTable(tuple(name for name, _ in pairs), tuple(cumulative))


@cache
def surname_table() -> WeightedTable:
    return _cumulative(list(surname_weights()))


GIVEN_NAME_EXPONENT = 0.7  # no published frequencies (README.md): a gentle Zipf curve over the ranking


@cache
def given_name_table(sex: Sex) -> WeightedTable:
    """The top-100 given names for ``sex``, weighted ``rank ** -0.7``."""
    rows = [r for r in _rows("tw_given_names.csv") if r["sex"] == sex.value]
    if not rows:
        raise ReferenceDataError(f"tw_given_names.csv has no names for sex {sex.value}")
    return _cumulative([(r["given_name"], _int(r["rank"], "rank") ** -GIVEN_NAME_EXPONENT) for r in rows])


@cache
def pinyin_table() -> dict[str, str]:
    """Toneless Hanyu Pinyin (ü written ``v``) of every character the generator can put in a name."""
    return {r["char"]: r["pinyin"] for r in _rows("tw_name_pinyin.csv")}


@cache
def rare_characters() -> tuple[str, ...]:
    """Rare name characters, several beyond the BMP, to exercise the full-character font (CARD-1)."""
    return tuple(r["char"] for r in _rows("tw_name_pinyin.csv") if r["kind"] == "rare")
