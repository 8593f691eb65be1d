"""The card's data as taken from the household register: the production file record and the keyed
digests that let issuance check the chip is still current without keeping a copy of the data (MGMT-8).

CARD-7 splits the data in two: what is printed on the face or read-only on the chip (names, ID number,
birth date, sex, marital status) and what a chip update may change (household region and address, military
service, spouse, parents, birthplace). A change in the first part needs a new card; in the second, a chip
update (MGMT-11).

The digests are HMAC-SHA-256 under a key derived from ``NEWEID_CARD_DIGEST_KEY`` (default: the secret key),
so that they cannot be matched against guessed personal data.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from neweid.server.registry.interface import PersonRecord


def _key() -> bytes:
    secret = getattr(settings, "NEWEID_CARD_DIGEST_KEY", "") or settings.SECRET_KEY
    return hashlib.sha256(b"neweid.cards.digest\x00" + secret.encode("utf-8")).digest()


def _canonical(values: dict[str, Any]) -> bytes:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str).encode("utf-8")


def face_fields(record: PersonRecord) -> dict[str, Any]:
    """Printed on the face or read-only on the chip (CARD-7): a change needs a new card."""
    return {
        "id_number": record.id_number, "surname": record.surname, "given_name": record.given_name,
        "romanised_name": record.romanised_name, "foreign_name": record.foreign_name,
        "sex": record.sex.value, "birth_date": record.birth_date.isoformat(),
        "marital_status": record.marital_status.value,
    }


def chip_fields(record: PersonRecord) -> dict[str, Any]:
    """Updatable on the chip without a new card (CARD-7)."""
    region = record.household.region
    return {
        "village_code": region.village_code, "neighbourhood": region.neighbourhood,
        "address": record.household.address, "military_status": record.military_status.value,
        "spouse_name": record.spouse_name, "father_name": record.father_name,
        "mother_name": record.mother_name, "birthplace_name": record.birthplace.name,
        "birthplace_county_code": record.birthplace.county_code,
    }


def digest(values: dict[str, Any]) -> str:
    return hmac.new(_key(), _canonical(values), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CardDigests:
    face: str
    chip: str


def card_digests(record: PersonRecord) -> CardDigests:
    return CardDigests(digest(face_fields(record)), digest(chip_fields(record)))


def transfer_payload(record: PersonRecord, *, serial: str, issue_date: datetime.date,
                     renewal_date: datetime.date | None, certificate: bool,
                     application_id: int) -> dict[str, Any]:
    """What the production centre needs to print and personalise the card (personal data)."""
    region = record.household.region
    return {
        **face_fields(record), **chip_fields(record),
        "county_name": region.county_name, "township_name": region.township_name,
        "village_name": region.village_name, "serial": serial, "issue_date": issue_date.isoformat(),
        "renewal_date": renewal_date.isoformat() if renewal_date is not None else None,
        "certificate": certificate, "photo": f"application:{application_id}",
    }


def file_digest(lines: list[dict[str, Any]]) -> str:
    """SHA-256 of the production file's canonical content (one JSON line per record, in serial order)."""
    hasher = hashlib.sha256()
    for line in lines:
        hasher.update(_canonical(line))
        hasher.update(b"\n")
    return hasher.hexdigest()
