"""Photo checks of CARD-11 without face detection: JPEG, at most 5 MB, at least 826 × 1062 pixels."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from neweid.server.applications.errors import ApplicationErrorCode as C
from neweid.server.applications.errors import ApplicationRefusedError
from neweid.server.applications.photo import MAX_PHOTO_BYTES, MIN_HEIGHT, MIN_WIDTH, PhotoInfo, check_photo
from tests.server.test_applications_support import jpeg, png


def refused(data: bytes) -> C:
    with pytest.raises(ApplicationRefusedError) as caught:
        check_photo(data)
    assert caught.value.http_status == 422
    return C(caught.value.code)


def test_a_compliant_photo_passes() -> None:
    data = jpeg()
    assert check_photo(data) == PhotoInfo(826, 1062, len(data))


def test_png_is_refused() -> None:
    assert refused(png()) == C.PHOTO_NOT_JPEG


def test_empty_file_is_refused() -> None:
    assert refused(b"") == C.PHOTO_NOT_JPEG


def test_larger_than_5_mb_is_refused() -> None:
    data = jpeg()
    assert refused(data + b"\0" * (MAX_PHOTO_BYTES + 1 - len(data))) == C.PHOTO_TOO_LARGE


def test_exactly_5_mb_is_allowed() -> None:
    data = jpeg()
    padded = data + b"\0" * (MAX_PHOTO_BYTES - len(data))  # bytes after the EOI marker are ignored
    assert check_photo(padded).size == MAX_PHOTO_BYTES


@pytest.mark.parametrize(("width", "height"), [(825, 1062), (826, 1061), (600, 800)])
def test_too_small_is_refused(width: int, height: int) -> None:
    assert refused(jpeg(width, height)) == C.PHOTO_TOO_SMALL


def test_truncated_jpeg_is_refused() -> None:
    data = jpeg(quality=95)
    assert refused(data[: len(data) // 2]) == C.PHOTO_UNREADABLE


def test_garbage_behind_a_jpeg_signature_is_refused() -> None:
    assert refused(b"\xff\xd8\xff\xe0" + b"not a jpeg" * 100) == C.PHOTO_UNREADABLE


def test_a_cmyk_jpeg_is_still_a_jpeg() -> None:
    buffer = io.BytesIO()
    Image.new("CMYK", (MIN_WIDTH, MIN_HEIGHT)).save(buffer, "JPEG")
    assert check_photo(buffer.getvalue()).width == MIN_WIDTH


@settings(max_examples=12, deadline=None)
@given(st.integers(min_value=700, max_value=900), st.integers(min_value=1000, max_value=1150))
def test_dimension_threshold(width: int, height: int) -> None:
    data = jpeg(width, height, quality=30)
    if width >= MIN_WIDTH and height >= MIN_HEIGHT:
        assert check_photo(data) == PhotoInfo(width, height, len(data))
    else:
        assert refused(data) == C.PHOTO_TOO_SMALL
