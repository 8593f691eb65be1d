"""Synthetic names: Chinese names from the MOI rankings, rare-character names, foreign names."""

from __future__ import annotations

import random
from dataclasses import dataclass

from neweid.formats.sex import Sex
from neweid.population.data import given_name_table, rare_characters, surname_table

RARE_NAME_PROBABILITY = 0.01  # ≈1 % of given names carry a rare character (CARD-1 full-character font)
SINGLE_CHARACTER_PROBABILITY = 0.03
MIXED_NAME_PROBABILITY = 0.25  # given names recombined from two ranked names, for variety


def draw_surname(rng: random.Random) -> str:
    table = surname_table()
    return rng.choices(table.items, cum_weights=table.cum_weights)[0]


def draw_other_surname(rng: random.Random, avoid: str) -> str:
    """A surname different from ``avoid`` (mothers and spouses rarely share it)."""
    for _ in range(20):
        surname = draw_surname(rng)
        if surname != avoid:
            return surname
    return "林" if avoid != "林" else "陳"


def _ranked_given_name(rng: random.Random, sex: Sex) -> str:
    table = given_name_table(sex)
    return rng.choices(table.items, cum_weights=table.cum_weights)[0]


def draw_given_name(rng: random.Random, sex: Sex, *, rare_probability: float = RARE_NAME_PROBABILITY) -> str:
    """A given name for ``sex``: usually one of the top 100, sometimes recombined, single or rare."""
    name = _ranked_given_name(rng, sex)
    roll = rng.random()
    if roll < MIXED_NAME_PROBABILITY:
        other = _ranked_given_name(rng, sex)
        name = name[0] + other[-1]
    elif roll < MIXED_NAME_PROBABILITY + SINGLE_CHARACTER_PROBABILITY:
        name = name[rng.randrange(len(name))]
    if rng.random() < rare_probability:
        rare = rng.choice(rare_characters())
        name = rare if len(name) == 1 else (rare + name[1:] if rng.random() < 0.5 else name[:-1] + rare)
    return name


@dataclass(frozen=True)
class ForeignOrigin:
    """Where a naturalised citizen came from, with name material in passport order (SURNAME, GIVEN)."""

    country_zh: str
    weight: float
    surnames: tuple[tuple[str, str | None], ...]  # (foreign surname, Chinese surname or None: any)
    female_given: tuple[str, ...]
    male_given: tuple[str, ...]


# Most naturalised citizens of Taiwan are spouses from South-East Asia, mainly women.
NATURALISED_ORIGINS: tuple[ForeignOrigin, ...] = (
    ForeignOrigin("越南", 0.55, (("NGUYEN", "阮"), ("TRAN", "陳"), ("LE", "黎"), ("PHAM", "范"),
                                ("HOANG", "黃"), ("DANG", "鄧")),
                  ("THI HOA", "THI LAN", "THI MAI", "THI THU", "THI HUONG", "NGOC ANH"),
                  ("VAN NAM", "VAN HUNG", "MINH TUAN", "DUC ANH")),
    ForeignOrigin("印尼", 0.20, (("RAHAYU", None), ("LESTARI", None), ("SANTOSO", None), ("WIJAYA", None)),
                  ("SITI", "DEWI", "SRI", "NUR AINI"), ("BUDI", "AGUS", "EKO")),
    ForeignOrigin("菲律賓", 0.10, (("SANTOS", None), ("REYES", None), ("CRUZ", None), ("GARCIA", None)),
                  ("MARIA CLARA", "JOCELYN", "ROWENA"), ("JOSE", "MARK ANTHONY")),
    ForeignOrigin("泰國", 0.10, (("SRISUK", None), ("WONGSAWAT", None), ("CHAIYAPORN", None)),
                  ("NARIN", "SUDA", "MALEE"), ("SOMCHAI", "ANAN")),
    ForeignOrigin("美國", 0.05, (("SMITH", None), ("JOHNSON", None), ("MILLER", None)),
                  ("EMILY", "SARAH"), ("JOHN", "MICHAEL", "DAVID")),
)


def draw_origin(rng: random.Random) -> ForeignOrigin:
    return rng.choices(NATURALISED_ORIGINS, weights=[o.weight for o in NATURALISED_ORIGINS])[0]


def foreign_name(rng: random.Random, origin: ForeignOrigin, sex: Sex,
                 surname: tuple[str, str | None] | None = None) -> str:
    """``SURNAME, GIVEN NAMES`` in the origin's style."""
    family = surname[0] if surname is not None else rng.choice(origin.surnames)[0]
    given = rng.choice(origin.male_given if sex is Sex.MALE else origin.female_given)
    return f"{family}, {given}"
