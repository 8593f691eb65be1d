"""Offices, staff profiles, password history and maker–checker approval requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Office(models.Model):
    """A household registration office (戶政事務所); one or more per township."""

    code = models.CharField(max_length=16, unique=True)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128)
    county_code = models.CharField(max_length=5, db_index=True)
    township_code = models.CharField(max_length=8, db_index=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("code",)

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class StaffProfile(models.Model):
    """The staff side of a Django user: office and the non-personal staff ID used in the audit log."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="staff_profile")
    staff_id = models.CharField(max_length=12, unique=True)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, null=True, blank=True, related_name="staff")

    class Meta:
        # Capabilities: granted to roles (groups) only, see neweid.server.accounts.roles.
        default_permissions = ()
        permissions = (
            ("operate_cases", "Operate citizen cases (applications, issuance, loss reports)"),
            ("approve_requests", "Approve maker-checker requests"),
            ("view_office_reports", "View office statistics"),
            ("view_county_reports", "View city/county statistics"),
            ("view_national_reports", "View national statistics"),
            ("manage_offices", "Manage offices and system settings"),
            ("assign_roles", "Create staff accounts and assign roles"),
            ("view_audit", "Read and verify the audit log"),
        )

    def __str__(self) -> str:
        return self.staff_id


class PasswordHistory(models.Model):
    """Hashes of a user's recent passwords (never the passwords), for the not-one-of-the-last-5 rule."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="password_history")
    encoded = models.CharField(max_length=256)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created", "-id")

    def __str__(self) -> str:
        return f"password of user {self.user_id} set {self.created:%Y-%m-%d}"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ApprovalRequest(models.Model):
    """A maker–checker request: one person asks, a different person with the right approves or rejects."""

    action = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        indexes = (models.Index(fields=("status", "action"), name="approval_status_action"),)
        constraints = (
            models.CheckConstraint(condition=~models.Q(decided_by=models.F("requested_by")),
                                   name="approval_checker_is_not_maker"),
        )

    def __str__(self) -> str:
        return f"approval {self.pk} {self.action} {self.status}"
