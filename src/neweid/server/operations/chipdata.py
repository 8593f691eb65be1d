"""Chip data lists (國民身分證晶片資料清單, DOC-2), minimal: issued with a verification serial for a card
in use, checked online by agencies, suspended while the card is reported lost (MGMT-10).

The printed document (zones' data, watermark, seam seal) comes with the documents package.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils import timezone

from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.cards.models import Card
from neweid.server.cards.states import CardState
from neweid.server.errors import NotFoundError
from neweid.server.operations.errors import NoCardInUseError
from neweid.server.operations.models import ChipDataList
from neweid.server.operations.serials import Rng, new_serial, normalise
from neweid.server.operations.staff import staff_office

Clock = Callable[[], datetime.datetime]


class ChipDataListState(StrEnum):
    VALID = "valid"
    SUSPENDED = "suspended"  # the card is reported lost
    INVALID = "invalid"  # the card is no longer in use (replaced, reissued, voided)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ChipDataListStatus:
    state: ChipDataListState
    issued_at: datetime.datetime | None = None


def do_issue_chip_data_list(card_id: int, *, acting_user: Any, now: Clock = timezone.now,
                            rng: Rng = os.urandom) -> ChipDataList:
    with audited_action("operations.chip_data_list.issue", actor=actor_id(acting_user),
                        object_type="chip_data_list", extra={"card": card_id}) as audit:
        office = staff_office(acting_user)
        card = Card.objects.filter(pk=card_id).first()
        if card is None:
            raise NotFoundError()
        if card.state != CardState.ISSUED:
            raise NoCardInUseError()
        chip_list = ChipDataList.objects.create(card=card, person_id=card.person_id, serial=new_serial(rng),
                                                office=office, issued_at=now())
        audit.object_id = str(chip_list.pk)
        return chip_list


def verify_chip_data_list(serial: str) -> ChipDataListStatus:
    canonical = normalise(serial)
    chip_list = (ChipDataList.objects.select_related("card").filter(serial=canonical).first()
                 if canonical is not None else None)
    if chip_list is None:
        return ChipDataListStatus(ChipDataListState.UNKNOWN)
    if chip_list.suspended or chip_list.card.state == CardState.LOST:
        return ChipDataListStatus(ChipDataListState.SUSPENDED, chip_list.issued_at)
    if chip_list.card.state != CardState.ISSUED:
        return ChipDataListStatus(ChipDataListState.INVALID, chip_list.issued_at)
    return ChipDataListStatus(ChipDataListState.VALID, chip_list.issued_at)
