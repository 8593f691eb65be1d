"""Object identifiers used by the citizen-certificate profile (docs/citizen-certificate-profile.md).

The certificate policy is the Taiwan GPKI policy OID that the government's citizen-facing CAs assert
(``2.16.886.101.0.3.3``, GPKI class 3 assurance). The New eID card serial number needs an attribute type
that no public registry defines yet: until MOI assigns one (naturally under the GPKI arc
``2.16.886.1.100.2`` where Taiwan's government CAs keep their subject-directory attribute types), this
project uses a **placeholder private arc** derived from a random UUID (ITU-T X.667, ``2.25.<uuid>``), which
is unique without registration and cannot collide with a real assignment. Replace
:data:`NEWEID_PRIVATE_ARC` once MOI publishes the real OIDs; nothing else depends on the numbers.
"""

from __future__ import annotations

from cryptography.x509 import ObjectIdentifier

__all__ = [
    "ID_AT_NEWEID_CARD_SERIAL",
    "ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES",
    "ID_PKIX_OCSP_NOCHECK",
    "NEWEID_PRIVATE_ARC",
    "POLICY_GPKI_CLASS3",
    "POLICY_NEWEID_CITIZEN_ENCRYPT",
    "POLICY_NEWEID_CITIZEN_SIGN",
]

#: Placeholder private arc (UUID OID, X.667) for this project's own identifiers.
NEWEID_PRIVATE_ARC = "2.25.268764210546003727127940490235526776456"

#: Attribute type of the New eID card serial number (PrintableString) in subjectDirectoryAttributes.
ID_AT_NEWEID_CARD_SERIAL = ObjectIdentifier(NEWEID_PRIVATE_ARC + ".1.1")

#: Project policies under the private arc, one per key usage, asserted next to the GPKI policy.
POLICY_NEWEID_CITIZEN_SIGN = ObjectIdentifier(NEWEID_PRIVATE_ARC + ".2.1")
POLICY_NEWEID_CITIZEN_ENCRYPT = ObjectIdentifier(NEWEID_PRIVATE_ARC + ".2.2")

#: Taiwan GPKI certificate policy, class 3 assurance (the policy MOICA's citizen certificates assert).
POLICY_GPKI_CLASS3 = ObjectIdentifier("2.16.886.101.0.3.3")

#: RFC 5280 subjectDirectoryAttributes.
ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES = ObjectIdentifier("2.5.29.9")

#: RFC 6960 id-pkix-ocsp-nocheck (the delegated responder's certificate is not itself checked).
ID_PKIX_OCSP_NOCHECK = ObjectIdentifier("1.3.6.1.5.5.7.48.1.5")
