"""Tables of the simulated household registration system.

The person and household rows hold the current registration; :class:`RegistryEvent` is the journal of the
changes applied to them (what happened, when it took effect, when it was recorded), not a second source of
truth: nothing is rebuilt from it. Codes are the string values of the enums in
:mod:`neweid.server.registry.values`, :mod:`neweid.formats.zones` and :mod:`neweid.formats.sex`.
"""

from __future__ import annotations

from django.db import models

from neweid.formats.sex import Sex
from neweid.formats.zones import MaritalStatus, MilitaryStatus
from neweid.server.registry.values import EventKind, PersonStatus, Relationship

SEX_CHOICES = [(s.value, s.label_en) for s in Sex]
MARITAL_CHOICES = [(s.value, s.label_en) for s in MaritalStatus]
MILITARY_CHOICES = [(s.value, s.label_en) for s in MilitaryStatus]
STATUS_CHOICES = [(s.value, s.label_en) for s in PersonStatus]
RELATIONSHIP_CHOICES = [(r.value, r.value) for r in Relationship]
EVENT_CHOICES = [(k.value, k.value) for k in EventKind]


class Household(models.Model):
    """A household (戶): its number, its place in the village structure and its address."""

    household_number = models.CharField(max_length=8, unique=True)  # county letter + 7 digits
    village_code = models.CharField(max_length=11)  # 11-digit MOI code (county 5 + township 3 + village 3)
    neighbourhood = models.PositiveSmallIntegerField()  # 鄰
    address = models.CharField(max_length=200)  # full text, county to floor

    class Meta:
        indexes = (models.Index(fields=["village_code", "neighbourhood"], name="registry_household_village"),)

    def __str__(self) -> str:
        return f"household {self.pk}"  # no address: personal data stays out of logs and reprs


class Person(models.Model):
    """A person on the register; names may hold characters beyond the BMP (UTF-8 / PostgreSQL text)."""

    id_number = models.CharField(max_length=10, unique=True)
    surname = models.CharField(max_length=20)
    given_name = models.CharField(max_length=20)
    romanised_name = models.CharField(max_length=80)  # SURNAME, GIVEN-NAME
    foreign_name = models.CharField(max_length=80, null=True, blank=True)  # naturalised citizens
    naturalised = models.BooleanField(default=False)
    sex = models.CharField(max_length=1, choices=SEX_CHOICES)
    birth_date = models.DateField()
    birthplace_name = models.CharField(max_length=40)
    birthplace_county_code = models.CharField(max_length=5, null=True, blank=True)  # None: outside Taiwan
    marital_status = models.CharField(max_length=1, choices=MARITAL_CHOICES)
    military_status = models.CharField(max_length=2, choices=MILITARY_CHOICES)
    father = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="+")
    father_name = models.CharField(max_length=80, null=True, blank=True)
    mother = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="+")
    mother_name = models.CharField(max_length=80, null=True, blank=True)
    spouse = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="+")
    spouse_name = models.CharField(max_length=80, null=True, blank=True)
    under_guardianship = models.BooleanField(default=False)  # 受監護宣告
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=PersonStatus.ACTIVE.value)
    status_date = models.DateField(null=True, blank=True)  # effective date of the last status change
    household = models.ForeignKey(Household, models.PROTECT, related_name="members")
    relationship = models.CharField(max_length=8, choices=RELATIONSHIP_CHOICES)
    email = models.CharField(max_length=254, null=True, blank=True)
    phone = models.CharField(max_length=20, null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)  # last change applied (None: as generated)

    class Meta:
        indexes = (models.Index(fields=["updated_at"], name="registry_person_updated"),)

    def __str__(self) -> str:
        return f"person {self.pk}"  # no ID number or name in reprs


class RegistryEvent(models.Model):
    """One change applied to the register, with its details in ``payload`` (ID numbers of the other
    people involved, household numbers moved between, the new status...)."""

    kind = models.CharField(max_length=16, choices=EVENT_CHOICES)
    person = models.ForeignKey(Person, models.PROTECT, related_name="events")
    household = models.ForeignKey(Household, models.PROTECT, null=True, blank=True, related_name="events")
    effective_date = models.DateField()
    recorded_at = models.DateTimeField()
    payload = models.JSONField(default=dict)

    class Meta:
        indexes = (
            models.Index(fields=["person", "recorded_at"], name="registry_event_person"),
            models.Index(fields=["recorded_at"], name="registry_event_recorded"),
        )
        ordering = ("recorded_at", "pk")

    def __str__(self) -> str:
        return f"{self.kind} event {self.pk}"
