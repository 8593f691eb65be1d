"""Applications, out-of-district pickup quotas, notification schedules and per-household letters.

An :class:`Application` keeps what the office took in: the person (and the representative or proxy who
applied), channel, kind, documents shown, certificate option, photo, fee, pickup office and date, and the
renewal date computed on the application date (CARD-10). Batching takes the ``SUBMITTED``/``VERIFIED``
ones; the cards app moves them on (``BATCHED``, ``COMPLETED``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")  # 網路申請
    SITE = "site", _("Scheduled site")  # 排定地點申請
    COUNTER = "counter", _("Counter")  # 臨櫃申請
    HOME = "home", _("Home service")  # 到府服務


class Kind(models.TextChoices):
    FIRST_ISSUANCE = "first_issuance", _("First issuance")  # 初領
    REISSUE_LOSS = "reissue_loss", _("Reissue after loss")  # 補領
    REPLACEMENT = "replacement", _("Replacement")  # 換領
    NATIONWIDE_REPLACEMENT = "nationwide_replacement", _("Nationwide replacement")  # 全面換證


class ReplacementReason(models.TextChoices):
    FACE_CHANGE = "face_change", _("Change of data printed on the card")  # 卡面記載事項變更
    PHOTO = "photo", _("New photo")  # 變更相片
    DAMAGE = "damage", _("Damaged card")  # 毀損
    ADD_CERTIFICATE = "add_certificate", _("Adding the citizen certificate")  # 附加自然人憑證
    RENEWAL_DUE = "renewal_due", _("Renewal date reached")  # 應換領日期屆至


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    VERIFIED = "verified", _("Verified")
    BATCHED = "batched", _("Sent to production")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")


OPEN_STATUSES = (Status.SUBMITTED, Status.VERIFIED, Status.BATCHED)


class ApplicantRole(models.TextChoices):
    SELF = "self", _("The person")  # 本人
    LEGAL_REPRESENTATIVE = "representative", _("Legal representative")  # 法定代理人
    PROXY = "proxy", _("Proxy")  # 受託人


class HomeServiceReason(models.TextChoices):
    """Who may ask for home service (到府服務)."""

    DISABLED = "disabled", _("Disability")  # 身心障礙者
    SENIOR_LIMITED_MOBILITY = "senior", _("65 or older with limited mobility")  # 65 歲以上行動不便者
    SERIOUSLY_ILL = "ill", _("Seriously ill, in hospital or at home")  # 重大傷病住院或在家療養
    OTHER_LIMITED_MOBILITY = "mobility", _("Other limited mobility")  # 其他行動不便者


class CertificateRefusal(models.TextChoices):
    """Why an application carries no citizen certificate (MGMT-5)."""

    DECLINED = "declined", _("Declined by the applicant")  # 勾選「不申請自然人憑證」
    GUARDIANSHIP = "guardianship", _("Under guardianship")  # 受監護宣告者不得申請


class Application(models.Model):
    person = models.ForeignKey("registry.Person", models.PROTECT, related_name="applications")
    applicant = models.ForeignKey("registry.Person", models.PROTECT, null=True, blank=True,
                                  related_name="+")  # representative or proxy; None: the person
    applicant_role = models.CharField(max_length=16, choices=ApplicantRole.choices,
                                      default=ApplicantRole.SELF)
    # Documents shown (MGMT-3): flags the clerk ticks.
    applicant_id_checked = models.BooleanField(default=False)  # representative's / proxy's ID document
    power_of_attorney = models.BooleanField(default=False)  # 委託書
    other_parent_consent = models.BooleanField(default=False)  # 同意書 of the other parent
    other_parent_present = models.BooleanField(default=False)
    home_service_reason = models.CharField(max_length=16, choices=HomeServiceReason.choices, null=True,
                                           blank=True)
    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="applications_taken")
    pickup_office = models.ForeignKey("accounts.Office", models.PROTECT,
                                      related_name="applications_for_pickup")
    out_of_district = models.BooleanField(default=False)  # online pickup outside the household's district
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    replacement_reason = models.CharField(max_length=32, choices=ReplacementReason.choices, null=True,
                                          blank=True)
    certificate_opt_in = models.BooleanField(default=True)
    certificate_refusal = models.CharField(max_length=16, choices=CertificateRefusal.choices, null=True,
                                           blank=True)
    photo = models.BinaryField(editable=False)  # JPEG (CARD-11); deleted after production (SEC-3)
    photo_width = models.PositiveIntegerField(default=0)
    photo_height = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    fee = models.PositiveIntegerField(default=0)  # NTD, paid at pickup
    application_date = models.DateField()  # local date; the age for CARD-10 is taken on it
    age_at_application = models.PositiveSmallIntegerField()
    renewal_date = models.DateField(null=True, blank=True)  # None: 65 or older, no renewal date
    submitted_at = models.DateTimeField()
    submitted_by = models.CharField(max_length=32, blank=True)  # staff ID ("" online)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=32, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    pickup_date = models.DateField(null=True, blank=True)
    contact_email = models.CharField(max_length=254, blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ("-submitted_at", "-id")
        indexes = (
            models.Index(fields=("status", "office"), name="application_status_office"),
            models.Index(fields=("status", "pickup_office"), name="application_status_pickup"),
        )
        constraints = (
            models.UniqueConstraint(fields=("person",),
                                    condition=Q(status__in=[s.value for s in OPEN_STATUSES]),
                                    name="application_one_open_per_person"),
            models.CheckConstraint(condition=Q(kind=Kind.REPLACEMENT) | Q(replacement_reason__isnull=True),
                                   name="application_reason_only_for_replacement"),
            models.CheckConstraint(condition=Q(certificate_opt_in=False)
                                   | Q(certificate_refusal__isnull=True),
                                   name="application_certificate_consistent"),
        )

    def __str__(self) -> str:
        return f"application {self.pk} {self.kind} {self.status}"  # no personal data


class OfficeDailyQuota(models.Model):
    """Places per office and day for online applications collected outside the household's district."""

    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="pickup_quotas")
    day = models.DateField()
    capacity = models.PositiveIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("day", "office")
        constraints = (
            models.UniqueConstraint(fields=("office", "day"), name="quota_one_per_office_day"),
            models.CheckConstraint(condition=Q(used__lte=F("capacity")), name="quota_never_oversold"),
        )

    def __str__(self) -> str:
        return f"quota {self.office_id} {self.day.isoformat()} {self.used}/{self.capacity}"


class NotificationSchedule(models.Model):
    """An office's replacement appointment for a village (or one neighbourhood of it) (MGMT-4)."""

    office = models.ForeignKey("accounts.Office", models.PROTECT, related_name="notification_schedules")
    village_code = models.CharField(max_length=11)
    neighbourhood = models.PositiveSmallIntegerField(null=True, blank=True)  # None: the whole village
    date = models.DateField()  # the day of the replacement at the site
    location = models.CharField(max_length=200)  # 排定地點 (school, village office, community centre)
    hours = models.CharField(max_length=64, blank=True)
    scheduled_on = models.DateField()  # notice and letters go out from this day (≥15 days before ``date``)
    created_by = models.CharField(max_length=32)

    class Meta:
        ordering = ("date", "village_code", "neighbourhood")
        indexes = (models.Index(fields=("village_code", "neighbourhood"), name="schedule_village"),)

    def __str__(self) -> str:
        return f"schedule {self.pk} {self.village_code}/{self.neighbourhood} {self.date.isoformat()}"


class NotificationLetter(models.Model):
    """One household's letter: a random token for the QR code URL and the enclosures (MGMT-4, DOC-3).

    Names and address are not copied here: they are read from the register when the letter is printed.
    """

    schedule = models.ForeignKey(NotificationSchedule, models.CASCADE, related_name="letters")
    household = models.ForeignKey("registry.Household", models.PROTECT, related_name="+")
    token = models.CharField(max_length=32, unique=True)
    people = models.PositiveSmallIntegerField()  # people of the household to replace (one form each)
    enclosures = models.JSONField(default=dict)  # enclosure code -> number of copies
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("schedule", "id")
        constraints = (models.UniqueConstraint(fields=("schedule", "household"),
                                               name="letter_one_per_household"),)

    def __str__(self) -> str:
        return f"letter {self.pk} of schedule {self.schedule_id}"
