"""The card image: one JSON file holding the persistent state, like a chip's EEPROM.

Layout::

    {"format": "neweid-card-image", "version": 2, "sha256": "<hex>", "content": {...}}

Version 2 (EAC issue) adds the CVCA trust points, the Chip Authentication key, the certificate-zone keys
and the closed-zone flag. A version-1 image is migrated when read: the new fields start empty (no trust
point, no CA or certificate-zone key, zone open), exactly the state of a version-1 chip; it is written
back as version 2 at the next change.

``sha256`` is SHA-256 over the canonical JSON of ``content`` (sorted keys, no spaces, ASCII). It detects
truncated or altered images; it is not a MAC (whoever can write the file can recompute it).

Writes are atomic, like a chip's transaction mechanism: a temporary file in the same directory is
written, flushed and fsync'ed, then renamed over the image with :func:`os.replace`, and the directory is
fsync'ed. A crash at any point leaves the previous image or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from neweid.card.errors import CardImageError
from neweid.card.state import PersistentState

FORMAT = "neweid-card-image"
VERSION = 2
_V2_FIELDS = ("trust_points", "ca_key", "cert_keys", "cert_zone_closed")


def _v1_defaults() -> dict[str, object]:
    return {"trust_points": [], "ca_key": None, "cert_keys": {}, "cert_zone_closed": False}

_log = logging.getLogger(__name__)


def canonical_json(content: object) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def digest(content: object) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def encode_image(content: dict[str, object]) -> bytes:
    doc = {"format": FORMAT, "version": VERSION, "sha256": digest(content), "content": content}
    return json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=True).encode("ascii") + b"\n"


def decode_image(raw: bytes, where: str = "card image") -> dict[str, object]:
    """The checked ``content`` of an image; raises :class:`CardImageError`."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CardImageError(f"{where} is truncated or not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CardImageError(f"{where} is not a neweid card image")
    version = doc.get("version")
    if version not in (1, VERSION) or isinstance(version, bool):
        raise CardImageError(f"{where} has format version {version!r}, this code reads 1 and {VERSION}")
    content = doc.get("content")
    if not isinstance(content, dict) or doc.get("sha256") != digest(content):
        raise CardImageError(f"{where} is altered or damaged: its SHA-256 digest does not match")
    if version == 1:
        if any(key in content for key in _V2_FIELDS):
            raise CardImageError(f"{where} claims version 1 but holds version-2 fields")
        _log.info("%s: migrating a version-1 image (no EAC state yet)", where)
        content = content | _v1_defaults()
    return content


def save_image(path: Path, content: dict[str, object]) -> None:
    """Write the image atomically; raises :class:`CardImageError` (the old image is left in place)."""
    data = encode_image(content)
    directory = path.parent
    tmp_name: str | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_dir(directory)
    except OSError as exc:
        raise CardImageError(f"cannot write the card image {path}: {exc.strerror or exc}") from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        _log.debug("fsync of directory %s not supported", directory)
    finally:
        os.close(fd)


def load_content(path: Path) -> dict[str, object]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CardImageError(f"cannot read the card image {path}: {exc.strerror or exc}") from exc
    return decode_image(raw, f"card image {path}")


def state_from_content(content: dict[str, object], where: str = "card image") -> PersistentState:
    try:
        return PersistentState.from_json(content)
    except (KeyError, TypeError, ValueError) as exc:
        raise CardImageError(f"{where} has invalid content: {exc!r}") from None


def load_state(path: Path) -> PersistentState:
    """The persistent state in the image at ``path``; raises :class:`CardImageError`."""
    return state_from_content(load_content(path), f"card image {path}")
