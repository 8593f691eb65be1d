"""Machine clients, the production centre's blank chips and status replies, the production package in the
transfer area, the household registration system's change notifications (MGMT-1) and the chip updates
their follow-up found needed (MGMT-11).

Personal data is kept here only in :class:`PackageLine` (the production package: personal data and
photos), deleted with the batch's transfer records once the centre's status replies are in, and the ID
numbers of :class:`RegistryNotification` (what the register tells us changed).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemScope(models.TextChoices):
    REGISTRY = "registry", _("Household registration system")
    PRODUCTION = "production", _("Production centre")


class SystemStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a second person's approval")
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


class ExchangeSystem(models.Model):
    """A registered machine client with its API token (only the token's SHA-256 is kept)."""

    name = models.CharField(max_length=48, unique=True)
    scope = models.CharField(max_length=16, choices=SystemScope.choices)
    status = models.CharField(max_length=16, choices=SystemStatus.choices, default=SystemStatus.PENDING)
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=8)  # the first characters, to tell tokens apart
    requested_by = models.CharField(max_length=32)
    requested_at = models.DateTimeField()
    approval = models.OneToOneField("accounts.ApprovalRequest", models.PROTECT, null=True, blank=True,
                                    related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"system {self.name} ({self.scope}, {self.status})"

    @property
    def actor(self) -> str:
        """The audit log's actor for the system's calls."""
        return f"system:{self.name}"


class BlankChip(models.Model):
    """A blank chip pre-produced by the centre: its serial and the CSRs of its 4 key pairs (2 RSA, 2 ECC);
    assigned to a card when the card's batch goes to production."""

    chip_serial = models.CharField(max_length=32, unique=True)
    csr_sign_rsa = models.TextField()
    csr_encrypt_rsa = models.TextField()
    csr_sign_ec = models.TextField()
    csr_encrypt_ec = models.TextField()
    received_at = models.DateTimeField()
    received_from = models.CharField(max_length=48)
    card = models.OneToOneField("cards.Card", models.PROTECT, null=True, blank=True,
                                related_name="blank_chip")
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("received_at", "id")
        indexes = (models.Index(fields=("card",), condition=models.Q(card__isnull=True),
                                name="blank_chip_free"),)

    def __str__(self) -> str:
        return f"blank chip {self.chip_serial}"

    def csrs(self) -> tuple[str, str, str, str]:
        return (self.csr_sign_rsa, self.csr_encrypt_rsa, self.csr_sign_ec, self.csr_encrypt_ec)


class PackageFile(models.Model):
    """The production package of a batch in the transfer area: header values; its lines below."""

    batch = models.OneToOneField("cards.ProductionBatch", models.CASCADE, related_name="package")
    batch_digest = models.CharField(max_length=64)  # the batch file's digest, for idempotent sends
    created_at = models.DateTimeField()
    count = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"production package of batch {self.batch_id}"


class PackageLine(models.Model):
    """One card's record of the package (personal data and photo): deleted after the status replies."""

    package = models.ForeignKey(PackageFile, models.CASCADE, related_name="lines")
    serial = models.CharField(max_length=9)
    line = models.BinaryField()

    class Meta:
        ordering = ("package", "serial")
        constraints = (models.UniqueConstraint(fields=("package", "serial"),
                                               name="package_one_line_per_card"),)

    def __str__(self) -> str:
        return f"package line of card {self.serial}"


class StatusReply(models.Model):
    """The production centre's latest status of a card (one row per card, replaced by later replies)."""

    batch = models.ForeignKey("cards.ProductionBatch", models.CASCADE, related_name="status_replies")
    serial = models.CharField(max_length=9)
    outcome = models.CharField(max_length=16)
    shipment = models.CharField(max_length=48, blank=True)
    chip_serial = models.CharField(max_length=32, blank=True)
    defect_note = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField()
    received_from = models.CharField(max_length=48)

    class Meta:
        ordering = ("batch", "serial")
        constraints = (models.UniqueConstraint(fields=("batch", "serial"), name="status_reply_one_per_card"),)

    def __str__(self) -> str:
        return f"status {self.outcome} of card {self.serial}"


class RegistryNotification(models.Model):
    """A change the household registration system told us about (idempotent by its event ID)."""

    event_id = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=16)
    id_number = models.CharField(max_length=10, db_index=True)
    effective_date = models.DateField()
    recorded_at = models.DateTimeField()
    received_at = models.DateTimeField()
    received_from = models.CharField(max_length=48)
    processed_at = models.DateTimeField(null=True, blank=True)  # followed up (exchange.followup)
    outcome = models.CharField(max_length=32, blank=True)  # what the follow-up did (FollowupOutcome)

    class Meta:
        ordering = ("recorded_at", "event_id")
        indexes = (models.Index(fields=("recorded_at", "event_id"), name="registry_notification_todo",
                                condition=models.Q(processed_at__isnull=True)),)

    def __str__(self) -> str:
        return f"registry notification {self.event_id} ({self.kind})"


class ChipUpdateNeeded(models.Model):
    """A card whose chip holds data the register has changed since (address, spouse, parents, military
    service): the office asks for a chip update (MGMT-11). Raised by the follow-up of a notification;
    resolved when a chip update of the card is requested."""

    card = models.ForeignKey("cards.Card", models.PROTECT, related_name="+")
    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="+")
    fields = models.JSONField()  # the chip fields the change concerns (names of operations.chip_updates)
    event_id = models.BigIntegerField()  # the registry notification that raised it
    flagged_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("flagged_at", "id")
        indexes = (models.Index(fields=("office",), condition=models.Q(resolved_at__isnull=True),
                                name="chip_update_needed_open"),)
        constraints = (models.UniqueConstraint(fields=("card", "event_id"), name="chip_update_needed_once"),)

    def __str__(self) -> str:
        return f"chip update needed for card {self.card_id}"
