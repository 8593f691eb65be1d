"""The citizen-certificate CA (自然人憑證, PKI-1..3, PKI-6..7): hierarchy, profiles, CARD-10 validity,
the issued-certificate registry, lifecycle and RA service, audit, CRLs and the OCSP responder.

Start with :class:`~neweid.pki.ca.directory.CaDirectory`; docs/citizen-certificate-profile.md describes
the certificates.
"""
