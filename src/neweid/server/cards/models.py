"""Production batches, cards and their history, the production transfer area, citizen notifications and
pickup confirmations.

A :class:`Card` holds no personal data beyond its links (person, application): its data as produced is
kept only as keyed digests (``face_digest``: what is printed and read-only on the chip; ``chip_digest``:
what a chip update may change, CARD-7), enough to check at issuance that the chip is current (MGMT-8).
The personal data sent to production lives in :class:`TransferRecord` rows only until the centre's status
replies are in (MGMT-1, SEC-3).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from neweid.server.cards.states import CardState, CertificateState, DefectSource, VoidReason


class BatchStatus(models.TextChoices):
    CREATED = "created", _("Created")  # cards ORDERED, file records built
    SENT = "sent", _("Sent to the production centre")
    PRODUCED = "produced", _("Produced")  # every card produced or defective
    COMPLETED = "completed", _("Completed")  # every produced card shipped; transfer area purged


class ProductionBatch(models.Model):
    """One production file: up to the batch size of cards, within the day's capacity (MGMT-6)."""

    reference = models.CharField(max_length=32, unique=True)  # B<yyyymmdd>-<nnn>
    production_date = models.DateField()
    sequence = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    reproductions = models.PositiveIntegerField(default=0)  # how many of the cards are re-productions
    status = models.CharField(max_length=16, choices=BatchStatus.choices, default=BatchStatus.CREATED)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    file_digest = models.CharField(max_length=64, blank=True)  # SHA-256 of the file as sent
    transfer_purged_at = models.DateTimeField(null=True, blank=True)  # personal data deleted

    class Meta:
        ordering = ("production_date", "sequence")
        constraints = (
            models.UniqueConstraint(fields=("production_date", "sequence"),
                                    name="batch_one_sequence_per_day"),
        )

    def __str__(self) -> str:
        return f"batch {self.reference} ({self.size} cards, {self.status})"


class Card(models.Model):
    """One physical card, from its order to its destruction. ``state`` changes only through
    :func:`neweid.server.cards.transitions.transition`, which writes a :class:`CardEvent` each time."""

    application = models.ForeignKey("applications.Application", models.PROTECT, related_name="cards")
    person = models.ForeignKey("registry.Person", models.PROTECT, related_name="cards")
    pickup_office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="cards_for_pickup")
    serial = models.CharField(max_length=9, unique=True)  # ^[A-Z]{2}[0-9]{7}$, drawn at batching
    state = models.CharField(max_length=16, choices=CardState.choices, default=CardState.ORDERED)
    state_changed_at = models.DateTimeField()
    batch = models.ForeignKey(ProductionBatch, models.PROTECT, related_name="cards")
    reproduction_of = models.OneToOneField("self", models.PROTECT, null=True, blank=True,
                                           related_name="reproduction")
    shipment = models.CharField(max_length=48, blank=True)  # the centre's shipment reference
    void_reason = models.CharField(max_length=32, choices=VoidReason.choices, blank=True)
    defect_source = models.CharField(max_length=16, choices=DefectSource.choices, blank=True)
    defect_note = models.CharField(max_length=200, blank=True)
    issue_date = models.DateField()  # printed on the face: the production day
    renewal_date = models.DateField(null=True, blank=True)  # from the application (CARD-10); None: 65+
    certificate_state = models.CharField(max_length=16, choices=CertificateState.choices)
    certificate_not_before = models.DateTimeField(null=True, blank=True)
    certificate_not_after = models.DateTimeField(null=True, blank=True)
    certificate_reissues = models.PositiveSmallIntegerField(default=0)  # at most one (CARD-10)
    data_as_of = models.DateTimeField()  # when the register was read for production
    face_digest = models.CharField(max_length=64)
    chip_digest = models.CharField(max_length=64)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("serial",)
        indexes = (
            models.Index(fields=("pickup_office", "state"), name="card_office_state"),
            models.Index(fields=("person", "state"), name="card_person_state"),
            models.Index(fields=("state", "state_changed_at"), name="card_state_time"),
        )
        constraints = (
            models.UniqueConstraint(fields=("application",), condition=Q(reproduction_of__isnull=True),
                                    name="card_one_original_per_application"),
            models.CheckConstraint(condition=Q(certificate_reissues__lte=1),
                                   name="card_one_certificate_reissue"),
        )

    def __str__(self) -> str:
        return f"card {self.serial} {self.state}"  # the serial is not personal data on its own


class CardEvent(models.Model):
    """One state change of a card (append-only history)."""

    card = models.ForeignKey(Card, models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=16, blank=True)  # "" when the card was ordered
    to_state = models.CharField(max_length=16)
    at = models.DateTimeField()
    actor = models.CharField(max_length=32, blank=True)  # staff ID, or "system:..." for machine steps
    reason = models.CharField(max_length=200, blank=True)
    batch_ref = models.CharField(max_length=48, blank=True)  # production batch or shipment reference

    class Meta:
        ordering = ("card", "at", "id")
        indexes = (models.Index(fields=("card", "at"), name="card_event_card_time"),)

    def __str__(self) -> str:
        return f"card {self.card_id}: {self.from_state or '-'} -> {self.to_state}"


class TransferRecord(models.Model):
    """The production file's record of one card, with the personal data to print (transfer area).

    Deleted once the centre's status replies for the batch are in (MGMT-1, SEC-3).
    """

    batch = models.ForeignKey(ProductionBatch, models.CASCADE, related_name="transfer_records")
    card = models.OneToOneField(Card, models.CASCADE, related_name="transfer_record")
    payload = models.JSONField()

    def __str__(self) -> str:
        return f"transfer record of card {self.card_id}"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")


class Notification(models.Model):
    """A pickup notice to the citizen (領證通知, MGMT-7): by e-mail, SMS or letter."""

    card = models.ForeignKey(Card, models.PROTECT, related_name="notifications")
    channel = models.CharField(max_length=8, choices=NotificationChannel.choices)
    status = models.CharField(max_length=8, choices=NotificationStatus.choices,
                              default=NotificationStatus.QUEUED)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"notification {self.pk} {self.channel} {self.status}"


class Collector(models.TextChoices):
    SELF = "self", _("The citizen")  # 本人 (14+: always)
    LEGAL_REPRESENTATIVE = "representative", _("Legal representative")  # 法定代理人
    AUTHORISED_ASCENDANT = "ascendant", _("Direct ascendant authorised by the legal representative")


class PickupConfirmation(models.Model):
    """領證確認書: the stub the citizen signs; carries the default user code (only its hash is kept)."""

    card = models.OneToOneField(Card, models.PROTECT, related_name="pickup_confirmation")
    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField()
    staff = models.CharField(max_length=32)
    collector = models.CharField(max_length=16, choices=Collector.choices)
    collector_person = models.ForeignKey("registry.Person", models.PROTECT, null=True, blank=True,
                                         related_name="+")
    child_present = models.BooleanField(default=False)
    consent_document = models.BooleanField(default=False)  # other parent's consent / authorisation letter
    documents_checked = models.BooleanField(default=False)
    stub_signed = models.BooleanField(default=False)
    user_code_hash = models.CharField(max_length=128)  # keyed, salted hash of the default user code
    old_cards_retained = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"pickup confirmation of card {self.card_id}"
