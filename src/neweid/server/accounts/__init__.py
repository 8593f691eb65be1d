"""Offices, staff, roles, the password and sign-in policy, and maker–checker approvals (SEC-1)."""
