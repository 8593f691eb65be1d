"""The data groups of the chip's zones (CARD-2): values and their DG file bytes.

Tag plan (fixed; documented in docs/card-file-map.md by the file map's owner)
-----------------------------------------------------------------------------
Every DG file is exactly one BER-TLV: a constructed application-class tag ``0x60 + n`` for DG *n*
(DG1 ``61`` … DG10 ``6A``, DG15 ``6F``, as ICAO 9303-10 does for DG15), whatever the zone (the zone is
given by the DF the file is in). Inside it the fields are primitive context-specific TLVs numbered from
``80`` in the order listed below; an optional field that is absent is left out, so an empty optional DG
is the bare outer tag with length 0 (e.g. ``68 00``: no renewal date). DG15 holds the DER
SubjectPublicKeyInfo itself (``6F L 30 …``).

Field encodings: text is UTF-8 (any Unicode, including characters outside the BMP such as 𡘙, no
control characters); dates are ``YYYYMMDD`` in ASCII (Western calendar); codes and numbers are ASCII
digits. Lengths are definite and minimal (at most 3 length bytes); decoding is strict: wrong outer
tag, unknown, duplicate, missing or out-of-order fields and trailing bytes are :class:`ZoneFormatError`.

==========  ===  ===========================================================================
zone        DG   fields (tag)
==========  ===  ===========================================================================
household   1    county_code 80, county_name 81, township_code 82, township_name 83,
                 village_code 84, village_name 85, neighbourhood 86
public      1    chinese_name 80, foreign_name 81 (optional), romanised_name 82
public      2    id_number 80
public      3    birth_date 80
public      4    address 80, village_code 81
public      5    marital status code 80 (``M``/``S``)
public      6    military status code 80 (2 digits), text 81
public      7    card serial 80
public      8    renewal date 80 (optional: none from age 65, CARD-10)
public      9    issue date 80
public      10   JPEG 80 (SOI ``FFD8`` … EOI ``FFD9``)
public      15   SubjectPublicKeyInfo (DER, the Active Authentication key)
encrypted   1    spouse name 80 (optional)
encrypted   2    father's name 80 (optional)
encrypted   3    mother's name 80 (optional)
encrypted   4    county_code 80 (optional: absent for a place outside Taiwan), name 81
encrypted   5    sex 80 (``M``/``F``)
encrypted   6    CAN 80 (6 digits)
==========  ===  ===========================================================================

Modules: :mod:`~neweid.formats.zones.household`, :mod:`~neweid.formats.zones.public` (with
:mod:`~neweid.formats.zones.status` for DG5 and DG6) and :mod:`~neweid.formats.zones.encrypted` hold the data
groups and zone aggregates; ``_codec`` holds the error, the DG file layout and the field codecs they share.
Import from this package, not from the submodules.
"""

from __future__ import annotations

from neweid.formats.zones._codec import ZoneFormatError, dg_tag
from neweid.formats.zones.encrypted import (
    Birthplace,
    CanDG,
    EncryptedZone,
    FatherName,
    MotherName,
    SexDG,
    SpouseName,
)
from neweid.formats.zones.household import HouseholdRegion, HouseholdZone
from neweid.formats.zones.public import (
    AaPublicKey,
    Address,
    BirthDate,
    CardSerial,
    IdNumberDG,
    IssueDate,
    Photo,
    PublicName,
    PublicZone,
    RenewalDate,
)
from neweid.formats.zones.status import (
    MaritalStatus,
    MaritalStatusDG,
    MilitaryService,
    MilitaryStatus,
)

__all__ = [
    "AaPublicKey",
    "Address",
    "BirthDate",
    "Birthplace",
    "CanDG",
    "CardSerial",
    "EncryptedZone",
    "FatherName",
    "HouseholdRegion",
    "HouseholdZone",
    "IdNumberDG",
    "IssueDate",
    "MaritalStatus",
    "MaritalStatusDG",
    "MilitaryService",
    "MilitaryStatus",
    "MotherName",
    "Photo",
    "PublicName",
    "PublicZone",
    "RenewalDate",
    "SexDG",
    "SpouseName",
    "ZoneFormatError",
    "dg_tag",
]
