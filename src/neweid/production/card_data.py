"""What a card carries, assembled from a citizen's record (CARD-1, CARD-2): the zones' data groups, the
MRZ and the secrets set at personalisation."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date

from neweid.formats.dates import to_compact
from neweid.formats.mrz import TD1, mrz_key_seed
from neweid.formats.zones import (
    Address,
    BirthDate,
    CanDG,
    CardSerial,
    EncryptedZone,
    FatherName,
    HouseholdZone,
    IdNumberDG,
    IssueDate,
    MaritalStatusDG,
    MilitaryService,
    MotherName,
    Photo,
    PublicName,
    PublicZone,
    RenewalDate,
    SexDG,
    SpouseName,
)
from neweid.population.synthetic import Citizen


@dataclass(frozen=True)
class CardSecrets:
    """The access codes a card is personalised with (CARD-5); CAN = last 6 digits of the serial."""

    can: str
    pin1: str
    pin2: str
    user_code: str

    @classmethod
    def generate(cls, rng: random.Random, card_serial: str) -> CardSecrets:
        digits = string.digits
        alnum = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"
        return cls(
            can=card_serial[-6:],
            pin1="".join(rng.choice(digits) for _ in range(6)),
            pin2="".join(rng.choice(digits) for _ in range(8)),
            user_code="".join(rng.choice(alnum) for _ in range(8)),
        )


@dataclass(frozen=True)
class CardContent:
    """Everything written to a card's zones, before the chip adds its Active Authentication key."""

    household: HouseholdZone
    public: PublicZone
    encrypted: EncryptedZone
    mrz: TD1

    @property
    def mrz_key_seed(self) -> str:
        return mrz_key_seed(self.mrz.document_number, self.mrz.birth_date, self.mrz.expiry_date)


def _romanised_parts(romanised: str) -> tuple[str, str]:
    surname, _, given = romanised.partition(",")
    return surname.strip(), given.strip()


def card_content(citizen: Citizen, photo_jpeg: bytes) -> CardContent:
    """The zones of ``citizen``'s card; the public zone has no AA key yet (the chip generates it)."""
    name = PublicName(chinese_name=citizen.surname + citizen.given_name,
                      romanised_name=citizen.romanised_name, foreign_name=citizen.foreign_name)
    public = PublicZone(
        name=name,
        id_number=IdNumberDG(citizen.id_number),
        birth_date=BirthDate(citizen.birth_date),
        address=Address(citizen.address, citizen.household.village_code),
        marital_status=MaritalStatusDG(citizen.marital_status),
        military_service=MilitaryService.of(citizen.military_status),
        card_serial=CardSerial(citizen.card_serial),
        renewal_date=RenewalDate(citizen.renewal_date),
        issue_date=IssueDate(citizen.issue_date),
        photo=Photo(photo_jpeg),
    )
    encrypted = EncryptedZone(
        spouse=SpouseName(citizen.spouse_name),
        father=FatherName(citizen.father_name),
        mother=MotherName(citizen.mother_name),
        birthplace=citizen.birthplace,
        sex=SexDG(citizen.sex),
        can=CanDG(citizen.card_serial[-6:]),
    )
    surname, given = _romanised_parts(citizen.romanised_name)
    mrz = TD1(
        document_code="ID", issuing_state="TWN", document_number=citizen.card_serial, optional1="",
        birth_date=citizen.birth_date, sex=citizen.sex.value, expiry_date=citizen.renewal_date,
        nationality="TWN", optional2="", surname=surname, given_names=given,
    )
    return CardContent(HouseholdZone(citizen.household), public, encrypted, mrz)


def card_date(today: date) -> str:
    return to_compact(today)


@dataclass(frozen=True)
class CertificateHolder:
    """What the citizen CA learns about a card's holder when production asks for the certificates."""

    chinese_name: str
    romanised_name: str
    id_number: str
    birth_date: date
    card_serial: str
    renewal_date: date | None

    @classmethod
    def of(cls, content: CardContent) -> CertificateHolder:
        public = content.public
        return cls(public.name.chinese_name, public.name.romanised_name, public.id_number.id_number,
                   public.birth_date.date, public.card_serial.serial, public.renewal_date.date)
