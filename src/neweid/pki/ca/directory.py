"""One CA directory opened as a whole: hierarchy, registry, audit log, lifecycle, RA, CRLs and OCSP.

This is what the `neweid ca` command and the management system use::

    with CaDirectory.open(path, store) as ca:
        ca.ra.operator("clerk-1").suspend(serial)
        ca.crls.publish(now)
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path

from neweid.pki.ca.audit import AuditSink, JsonLinesAuditSink
from neweid.pki.ca.crl import CrlIssuer, root_crl
from neweid.pki.ca.hierarchy import CaHierarchy, KeyLabels
from neweid.pki.ca.lifecycle import CitizenCa
from neweid.pki.ca.ocsp import DEFAULT_VALIDITY, OcspResponder
from neweid.pki.ca.profiles import CaUrls
from neweid.pki.ca.ra import RaService
from neweid.pki.ca.registry import Registry
from neweid.pki.keystore import KeyStore

__all__ = ["CaDirectory"]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class CaDirectory:
    """The citizen CA kept in one directory, with its keys in ``store``."""

    def __init__(
        self,
        hierarchy: CaHierarchy,
        *,
        audit: AuditSink | None = None,
        clock: Callable[[], datetime.datetime] = _utc_now,
        rng: Callable[[int], bytes] = os.urandom,
        office_clients: dict[str, bytes] | None = None,
    ) -> None:
        self.hierarchy = hierarchy
        self.clock = clock
        self.registry = Registry(hierarchy.registry_path)
        self.audit = audit if audit is not None else JsonLinesAuditSink(hierarchy.audit_path)
        self.ca = CitizenCa(hierarchy, self.registry, self.audit, clock=clock, rng=rng)
        self.ra = RaService(self.ca, office_clients=office_clients)
        self.crls = CrlIssuer(hierarchy, self.registry)

    @classmethod
    def init(
        cls,
        directory: Path,
        store: KeyStore,
        *,
        now: datetime.datetime,
        urls: CaUrls | None = None,
        labels: KeyLabels | None = None,
        rng: Callable[[int], bytes] = os.urandom,
        clock: Callable[[], datetime.datetime] = _utc_now,
    ) -> CaDirectory:
        """Create the hierarchy, the registry, an empty first full CRL and the root's CRL."""
        hierarchy = CaHierarchy.create(directory, store, now=now, urls=urls, labels=labels, rng=rng)
        opened = cls(hierarchy, clock=clock, rng=rng)
        opened.crls.publish(now)
        root_crl(hierarchy, now)
        return opened

    @classmethod
    def open(
        cls,
        directory: Path,
        store: KeyStore,
        *,
        clock: Callable[[], datetime.datetime] = _utc_now,
        rng: Callable[[int], bytes] = os.urandom,
        audit: AuditSink | None = None,
    ) -> CaDirectory:
        return cls(CaHierarchy.open(directory, store), clock=clock, rng=rng, audit=audit)

    def __enter__(self) -> CaDirectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.registry.close()

    def renew_ocsp_certificate(self, *, now: datetime.datetime, force: bool = False) -> None:
        """Renew the responder certificate if it ends within 30 days (see :class:`CaHierarchy`)."""
        self.hierarchy = self.hierarchy.renew_ocsp_certificate(now=now, force=force)
        self.ca.hierarchy = self.hierarchy

    def ocsp_responder(self, *, validity: datetime.timedelta = DEFAULT_VALIDITY) -> OcspResponder:
        """A responder over this registry; in-process status changes drop its cached responses at once."""
        responder = OcspResponder(self.hierarchy.issuing, self.hierarchy.ocsp, self.hierarchy.ocsp_signer,
                                  self.registry, validity=validity)
        self.ca.add_status_listener(responder.invalidate)
        return responder
