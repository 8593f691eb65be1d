"""Photo checks of CARD-11 that need no face detection: a JPEG file of at most 5 MB, at least 826 × 1062
pixels, that decodes completely. (Face size, age of the photo and retouching stay with the clerk.)"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from neweid.server.applications.errors import ApplicationErrorCode, ApplicationRefusedError

JPEG_SIGNATURE = b"\xff\xd8\xff"  # SOI marker and the first byte of the next marker
MAX_PHOTO_BYTES = 5 * 1024 * 1024  # 5 MB (binary megabytes)
MIN_WIDTH = 826
MIN_HEIGHT = 1062
MAX_PIXELS = 40_000_000  # anything larger is refused before decoding (decompression bombs)


@dataclass(frozen=True)
class PhotoInfo:
    width: int
    height: int
    size: int


def check_photo(data: bytes) -> PhotoInfo:
    """The photo's size if it passes the checks; :class:`ApplicationRefusedError` (P201..P204) if not."""
    if len(data) > MAX_PHOTO_BYTES:
        raise ApplicationRefusedError(ApplicationErrorCode.PHOTO_TOO_LARGE)
    if not data.startswith(JPEG_SIGNATURE):
        raise ApplicationRefusedError(ApplicationErrorCode.PHOTO_NOT_JPEG)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ApplicationRefusedError(ApplicationErrorCode.PHOTO_UNREADABLE)
                if width < MIN_WIDTH or height < MIN_HEIGHT:
                    raise ApplicationRefusedError(ApplicationErrorCode.PHOTO_TOO_SMALL)
                image.load()  # a truncated or corrupt file fails here
    except ApplicationRefusedError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ApplicationRefusedError(ApplicationErrorCode.PHOTO_UNREADABLE) from None
    return PhotoInfo(width, height, len(data))
