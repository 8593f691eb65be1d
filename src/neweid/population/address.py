"""Synthetic household addresses: a real village drawn in proportion to its population, a 鄰 and a
plausible street address (the street is not checked against the village's real streets)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from neweid.formats.zones import HouseholdRegion
from neweid.population.data import Village, counties, townships, village_table

# About 163 people per 鄰 on average (23.4 M people, 143,204 neighbourhoods at the end of 2021).
PEOPLE_PER_NEIGHBOURHOOD = 163
MAX_NEIGHBOURHOOD = 30

STREETS: tuple[str, ...] = (
    "中山", "中正", "中華", "民生", "民權", "民族", "復興", "光復", "建國", "和平", "信義", "仁愛",
    "忠孝", "成功", "文化", "三民", "自由", "大同", "中興", "公園", "博愛", "林森", "新生", "光明",
)
DIRECTIONS: tuple[str, ...] = ("東", "西", "南", "北")
_CHINESE_DIGITS = "一二三四五六七八九"


@dataclass(frozen=True)
class Household:
    region: HouseholdRegion
    address: str  # full text, e.g. 臺北市大安區錦安里12鄰和平東路一段100號3樓


def draw_village(rng: random.Random) -> Village:
    items, cumulative = village_table()
    return rng.choices(items, cum_weights=cumulative)[0]


def region_of(village: Village, neighbourhood: int) -> HouseholdRegion:
    township = townships()[village.township_code]
    county = counties()[township.county_code]
    return HouseholdRegion(county.code, county.name_zh, township.code, township.name_zh, village.code,
                           village.name_zh, neighbourhood)


def street_address(rng: random.Random) -> str:
    """路/街 + 段 + 巷 + 弄 + 號 + 樓, each part present with a plausible frequency."""
    name = rng.choice(STREETS)
    if rng.random() < 0.25:
        name += rng.choice(DIRECTIONS)
    parts = [name + ("路" if rng.random() < 0.75 else "街")]
    if parts[0].endswith("路") and rng.random() < 0.4:
        parts.append(_CHINESE_DIGITS[rng.randrange(5)] + "段")
    if rng.random() < 0.35:
        parts.append(f"{rng.randint(1, 400)}巷")
        if rng.random() < 0.25:
            parts.append(f"{rng.randint(1, 60)}弄")
    number = f"{rng.randint(1, 350)}"
    if rng.random() < 0.08:
        number += f"之{rng.randint(1, 9)}"
    parts.append(number + "號")
    if rng.random() < 0.6:
        parts.append(f"{rng.randint(2, 15)}樓")
    return "".join(parts)


def draw_household(rng: random.Random) -> Household:
    village = draw_village(rng)
    highest = max(1, min(MAX_NEIGHBOURHOOD, math.ceil(village.population / PEOPLE_PER_NEIGHBOURHOOD)))
    region = region_of(village, rng.randint(1, highest))
    text = (f"{region.county_name}{region.township_name}{region.village_name}{region.neighbourhood}鄰"
            f"{street_address(rng)}")
    return Household(region, text)
