"""Records of card operations: loss reports, chip data lists, temporary certificates, chip updates,
voiding lists and destruction records, daily statistics reports, recalls.

Person-identifying text is kept only where the document needs it (the temporary certificate prints name,
birth date, sex, ID number and address, DOC-1); ``__str__`` never shows it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LossChannel(models.TextChoices):
    COUNTER = "counter", _("At a counter")  # 臨櫃, any office
    ONLINE = "online", _("On the internet")  # 網路掛失
    PHONE = "phone", _("By phone to an office")  # 電話, office hours, to any office
    HOTLINE_1996 = "hotline_1996", _("1996 hotline")  # 1996 內政服務專線, outside office hours


class ReporterRole(models.TextChoices):
    SELF = "self", _("The person")
    LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")


class LossStatus(models.TextChoices):
    ACTIVE = "active", _("Loss reported")  # card, certificate and chip data lists suspended
    REVOKED = "revoked", _("Loss revoked")  # card found before a reissue: all restored
    REISSUED = "reissued", _("Reissue applied for")  # the old card is void for good


class LossReport(models.Model):
    card = models.ForeignKey("cards.Card", models.PROTECT, related_name="loss_reports")
    person = models.ForeignKey("registry.Person", models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=LossChannel.choices)
    reporter_role = models.CharField(max_length=24, choices=ReporterRole.choices)
    reporter = models.ForeignKey("registry.Person", models.PROTECT, related_name="+")
    office = models.ForeignKey("accounts.Office", models.PROTECT, null=True, blank=True, related_name="+")
    reported_at = models.DateTimeField()
    reported_by_staff = models.CharField(max_length=32, blank=True)  # non-personal staff ID ("" online)
    certificate_suspended = models.BooleanField(default=False)  # it was active: resume it on revocation
    status = models.CharField(max_length=16, choices=LossStatus.choices, default=LossStatus.ACTIVE)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_channel = models.CharField(max_length=16, choices=LossChannel.choices, blank=True)
    reissue_application = models.ForeignKey("applications.Application", models.PROTECT, null=True,
                                            blank=True, related_name="+")

    class Meta:
        ordering = ("-reported_at", "-id")
        constraints = (
            models.UniqueConstraint(fields=("card",), condition=models.Q(status="active"),
                                    name="operations_one_active_loss_per_card"),
        )

    def __str__(self) -> str:
        return f"loss report {self.pk} ({self.status})"


class ChipDataList(models.Model):
    """國民身分證晶片資料清單 (DOC-2), minimal: its verification serial and whether it is suspended."""

    card = models.ForeignKey("cards.Card", models.PROTECT, related_name="chip_data_lists")
    person = models.ForeignKey("registry.Person", models.PROTECT, related_name="+")
    serial = models.CharField(max_length=20, unique=True)
    office = models.ForeignKey("accounts.Office", models.PROTECT, null=True, blank=True, related_name="+")
    issued_at = models.DateTimeField()
    suspended = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"chip data list {self.pk}"


class TemporaryCertificate(models.Model):
    """臨時證明書 (DOC-1): the data printed on it, its validity and its verification serial."""

    application = models.ForeignKey("applications.Application", models.PROTECT,
                                    related_name="temporary_certificates")
    person = models.ForeignKey("registry.Person", models.PROTECT, related_name="+")
    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="+")
    serial = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=80)
    romanised_name = models.CharField(max_length=80, blank=True)
    birth_date = models.DateField()
    sex = models.CharField(max_length=1)
    id_number = models.CharField(max_length=10)
    address = models.CharField(max_length=200)
    applied_at = models.DateTimeField()  # the application's submission time
    issued_at = models.DateTimeField()
    valid_from = models.DateField()
    valid_until = models.DateField()
    notes = models.TextField(blank=True)
    issued_by_staff = models.CharField(max_length=32)
    withdrawn_at = models.DateTimeField(null=True, blank=True)  # handed back / cancelled

    class Meta:
        ordering = ("-issued_at", "-id")

    def __str__(self) -> str:
        return f"temporary certificate {self.pk}"


class ChipUpdateStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")  # waiting for the second person
    # to be written to the chip (the write comes with a later issue)
    APPROVED = "approved", _("Approved, to be written")
    REJECTED = "rejected", _("Rejected")
    WRITTEN = "written", _("Written to the chip")


class ChipUpdate(models.Model):
    """A chip content update (MGMT-11, CARD-7): fields not printed on the card face only."""

    card = models.ForeignKey("cards.Card", models.PROTECT, related_name="chip_updates")
    person = models.ForeignKey("registry.Person", models.PROTECT, related_name="+")
    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="+")
    changes = models.JSONField()  # field -> new value (personal data: never copied to the audit log)
    fields = models.JSONField()  # the field names, sorted
    new_chip_digest = models.CharField(max_length=64)  # the card's chip digest once written (cards.carddata)
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=ChipUpdateStatus.choices,
                              default=ChipUpdateStatus.PENDING)
    approval = models.OneToOneField("accounts.ApprovalRequest", models.PROTECT, null=True, blank=True,
                                    related_name="+")
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")

    def __str__(self) -> str:
        return f"chip update {self.pk} ({self.status})"


class VoidingRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class VoidingRequest(models.Model):
    """Cards an office asks to void (MGMT-12); a second person approves, then they are voided."""

    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="+")
    card_ids = models.JSONField()
    reason = models.CharField(max_length=32)
    note = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=VoidingRequestStatus.choices,
                              default=VoidingRequestStatus.PENDING)
    approval = models.OneToOneField("accounts.ApprovalRequest", models.PROTECT, null=True, blank=True,
                                    related_name="+")
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"voiding request {self.pk} ({self.status})"


class VoidingListKind(models.TextChoices):
    # back to the production centre: re-made free, destroyed there
    DEFECTIVE_RETURN = "defective_return", _("Defective cards back to the production centre")
    # to the city/county government for central destruction
    CENTRAL_DESTRUCTION = "central_destruction", _("Central destruction by the city or county")


class VoidingListStatus(models.TextChoices):
    COMPILED = "compiled", _("Listed, in custody")  # listed, kept in custody at the office
    SENT = "sent", _("Sent for destruction")  # handed over to the production centre or the city/county
    DESTROYED = "destroyed", _("Destroyed")  # destruction recorded and reported to MOI


class VoidingList(models.Model):
    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="+")
    kind = models.CharField(max_length=24, choices=VoidingListKind.choices)
    county_code = models.CharField(max_length=5)
    status = models.CharField(max_length=16, choices=VoidingListStatus.choices,
                              default=VoidingListStatus.COMPILED)
    card_count = models.PositiveIntegerField()
    compiled_at = models.DateTimeField()
    compiled_by_staff = models.CharField(max_length=32)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by_staff = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ("-compiled_at", "-id")

    def __str__(self) -> str:
        return f"voiding list {self.pk} {self.kind} ({self.status})"


class VoidingListItem(models.Model):
    voiding_list = models.ForeignKey(VoidingList, models.PROTECT, related_name="items")
    card = models.OneToOneField("cards.Card", models.PROTECT, related_name="voiding_list_item")
    serial = models.CharField(max_length=16)
    state_when_listed = models.CharField(max_length=24)

    def __str__(self) -> str:
        return f"voiding list item {self.pk}"


class DestructionRecord(models.Model):
    """Who destroyed a list's cards, where and when; reported to MOI (備查)."""

    voiding_list = models.OneToOneField(VoidingList, models.PROTECT, related_name="destruction")
    destroyed_at = models.DateTimeField()
    destroyed_by = models.CharField(max_length=32)  # "production_centre" or the county's code
    place = models.CharField(max_length=200)
    method = models.CharField(max_length=100)
    card_count = models.PositiveIntegerField()
    recorded_by_staff = models.CharField(max_length=32)
    reported_to_moi_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"destruction of list {self.voiding_list_id}"


class DailyReport(models.Model):
    """An office's end-of-day nationwide replacement statistics table (MGMT-13), as reported to the
    city/county and MOI. Kept apart from the monthly household registration statistics."""

    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="+")
    county_code = models.CharField(max_length=5, db_index=True)
    day = models.DateField()
    figures = models.JSONField()  # {"applications": {kind: {status: n}}, "cards": {state: n}}
    reported_at = models.DateTimeField()
    reported_by_staff = models.CharField(max_length=32)

    class Meta:
        ordering = ("-day", "office_id")
        constraints = (
            models.UniqueConstraint(fields=("office", "day"), name="operations_one_report_per_day"),
        )

    def __str__(self) -> str:
        return f"daily report {self.day} office {self.office_id}"


class RecallRemedy(models.TextChoices):
    FIRMWARE_UPDATE = "firmware_update", _("Firmware update")  # 韌體更新
    REPLACEMENT = "replacement", _("Replacement card")  # 換領新證


class RecallStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")  # waiting for approval
    ACTIVE = "active", _("In progress")  # cards revoked, agencies and citizens notified, offices working
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")


class Recall(models.Model):
    """A recall of cards with a chip security problem (MGMT-14, Ch.12 捌 (三)4)."""

    title = models.CharField(max_length=200)
    reason = models.TextField()
    remedy = models.CharField(max_length=24, choices=RecallRemedy.choices)
    batch_ids = models.JSONField(default=list)  # production batch IDs
    serial_ranges = models.JSONField(default=list)  # [[first, last], ...], inclusive
    chip_lots = models.JSONField(default=list)  # chip lot labels as the production centre reports them
    status = models.CharField(max_length=16, choices=RecallStatus.choices, default=RecallStatus.PENDING)
    approval = models.OneToOneField("accounts.ApprovalRequest", models.PROTECT, null=True, blank=True,
                                    related_name="+")
    requested_at = models.DateTimeField()
    requested_by_staff = models.CharField(max_length=32)
    activated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    card_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-requested_at", "-id")

    def __str__(self) -> str:
        return f"recall {self.pk} ({self.status})"


class RecallItemStatus(models.TextChoices):
    NOTIFIED = "notified", _("Citizen told to come")
    FIRMWARE_UPDATED = "firmware_updated", _("Firmware updated")
    # old card punched, temporary certificate given
    REPLACEMENT_APPLIED = "replacement_applied", _("Replacement applied for")
    REPLACED = "replaced", _("New card collected")


class RecallItem(models.Model):
    recall = models.ForeignKey(Recall, models.PROTECT, related_name="items")
    card = models.ForeignKey("cards.Card", models.PROTECT, related_name="+")
    office = models.ForeignKey("accounts.Office", models.PROTECT, null=True, related_name="+")
    serial = models.CharField(max_length=16)
    status = models.CharField(max_length=24, choices=RecallItemStatus.choices,
                              default=RecallItemStatus.NOTIFIED)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("recall", "card"), name="operations_recall_card_once"),
        )
        indexes = (models.Index(fields=("recall", "office", "status"), name="operations_recall_progress"),)

    def __str__(self) -> str:
        return f"recall item {self.pk}"


class RevocationPublication(models.Model):
    """Card serials revoked by the management system, to be published by OCSP and in the next CRL."""

    card = models.ForeignKey("cards.Card", models.PROTECT, related_name="+")
    serial = models.CharField(max_length=16, db_index=True)
    reason = models.CharField(max_length=32)
    recall = models.ForeignKey(Recall, models.PROTECT, null=True, blank=True, related_name="revocations")
    revoked_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)  # set when OCSP/CRL have picked it up

    def __str__(self) -> str:
        return f"revocation {self.pk}"


class ApiZone(models.TextChoices):
    PUBLIC = "public", _("Public zone")
    ENCRYPTED = "encrypted", _("Encrypted zone")
    CERTIFICATE = "certificate", _("Certificate zone")


class ApiSuspension(models.Model):
    """The agencies' card-reading API for a zone is suspended (and its downloads withdrawn) while a
    recall's API change is made (MGMT-14 step 5)."""

    recall = models.ForeignKey(Recall, models.PROTECT, related_name="api_suspensions")
    zone = models.CharField(max_length=16, choices=ApiZone.choices)
    suspended_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"API suspension {self.zone}"


class AgencyNotification(models.Model):
    recall = models.ForeignKey(Recall, models.PROTECT, related_name="agency_notifications")
    audience = models.CharField(max_length=64)  # "all_agencies" or an agency code
    subject = models.CharField(max_length=64)  # "api_suspended", "api_updated"
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"agency notification {self.pk}"


class NotificationChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")


class CitizenNotification(models.Model):
    recall = models.ForeignKey(Recall, models.PROTECT, related_name="citizen_notifications")
    card = models.ForeignKey("cards.Card", models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8, choices=NotificationChannel.choices)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"citizen notification {self.pk}"
