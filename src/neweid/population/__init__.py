"""Synthetic citizens for personalising test cards: names, ID numbers, addresses, dates, photos.

Deterministic for a given ``random.Random``; reference data from ``neweid/data`` (see its README.md).
"""

from neweid.population.errors import PopulationError, ReferenceDataError
from neweid.population.photo import make_photo, make_print_photo
from neweid.population.synthetic import Citizen, generate_card_serial, generate_citizen, generate_citizens
from neweid.population.validity import renewal_date

__all__ = [
    "Citizen",
    "PopulationError",
    "ReferenceDataError",
    "generate_card_serial",
    "generate_citizen",
    "generate_citizens",
    "make_photo",
    "make_print_photo",
    "renewal_date",
]
