"""Synthetic ID photos drawn with Pillow: a plain background and a head-and-shoulders silhouette.

Two sizes (CARD-11): the chip photo (public-zone DG10, ~300 × 385 px, at most 20 KB so it fits the file
map's 32 KB DG10 with room to spare) and the print-quality photo submitted with an application (at least
826 × 1062 px). In both the head, crown to chin, takes 75 % of the height as CARD-11 asks (70-80 %).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

from neweid.formats.sex import Sex
from neweid.population.errors import PopulationError
from neweid.population.synthetic import Citizen

CHIP_PHOTO_SIZE = (300, 385)
PRINT_PHOTO_SIZE = (826, 1062)
CHIP_PHOTO_MAX_BYTES = 20 * 1024
CROWN_Y = 0.10  # top of the hair, as a fraction of the height
CHIN_Y = 0.85  # crown to chin: 75 % of the height
_QUALITIES = (90, 85, 80, 75, 70, 60, 50, 40, 30, 20)

Colour = tuple[int, int, int]

_BACKGROUNDS: tuple[Colour, ...] = ((250, 250, 250), (236, 242, 250), (222, 235, 250), (240, 240, 235))
_SKIN: tuple[Colour, ...] = ((241, 204, 170), (226, 185, 150), (205, 160, 120), (176, 128, 92),
                             (244, 214, 186))
_HAIR: tuple[Colour, ...] = ((20, 18, 18), (40, 30, 25), (65, 45, 30), (30, 30, 35))
_GREY_HAIR: tuple[Colour, ...] = ((150, 150, 150), (185, 185, 180), (120, 118, 115))
_CLOTHES: tuple[Colour, ...] = ((30, 40, 70), (60, 60, 60), (240, 240, 240), (120, 30, 40), (40, 90, 60),
                                (90, 110, 150), (20, 20, 20))


@dataclass(frozen=True)
class PortraitStyle:
    background: Colour
    skin: Colour
    hair: Colour
    clothes: Colour
    long_hair: bool
    face_width: float  # fraction of the image width
    eye_offset: float  # vertical jitter of the eye line, fraction of the height


def draw_style(rng: random.Random, citizen: Citizen) -> PortraitStyle:
    grey = citizen.age >= 55 and rng.random() < min(0.9, (citizen.age - 50) / 30)
    return PortraitStyle(
        background=rng.choice(_BACKGROUNDS),
        skin=rng.choice(_SKIN),
        hair=rng.choice(_GREY_HAIR if grey else _HAIR),
        clothes=rng.choice(_CLOTHES),
        long_hair=citizen.sex is Sex.FEMALE and rng.random() < 0.7,
        face_width=rng.uniform(0.50, 0.60),
        eye_offset=rng.uniform(-0.015, 0.015),
    )


def render_portrait(style: PortraitStyle, width: int, height: int) -> Image.Image:
    """The portrait drawn at ``width`` × ``height`` pixels."""
    if width < 64 or height < 64:
        raise PopulationError(f"photo size {width}x{height} is too small")
    image = Image.new("RGB", (width, height), style.background)
    draw = ImageDraw.Draw(image)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height)

    half = style.face_width / 2
    face_top = CROWN_Y + 0.07
    if style.long_hair:
        draw.rounded_rectangle(box(0.5 - half - 0.06, CROWN_Y + 0.1, 0.5 + half + 0.06, 1.02),
                               radius=round(0.1 * width), fill=style.hair)
    draw.ellipse(box(0.02, CHIN_Y - 0.04, 0.98, 1.5), fill=style.clothes)  # shoulders
    draw.rectangle(box(0.5 - half * 0.45, CHIN_Y - 0.1, 0.5 + half * 0.45, CHIN_Y + 0.05), fill=style.skin)
    draw.ellipse(box(0.5 - half - 0.035, 0.40, 0.5 - half + 0.035, 0.55), fill=style.skin)  # ears
    draw.ellipse(box(0.5 + half - 0.035, 0.40, 0.5 + half + 0.035, 0.55), fill=style.skin)
    draw.ellipse(box(0.5 - half, face_top, 0.5 + half, CHIN_Y), fill=style.skin)  # face, chin at CHIN_Y
    draw.chord(box(0.5 - half - 0.02, CROWN_Y, 0.5 + half + 0.02, 0.50), 180, 360, fill=style.hair)
    eye_y = 0.46 + style.eye_offset
    dark = (35, 30, 30)
    for centre in (0.5 - half * 0.42, 0.5 + half * 0.42):
        draw.ellipse(box(centre - 0.03, eye_y - 0.012, centre + 0.03, eye_y + 0.012), fill=(250, 250, 250))
        draw.ellipse(box(centre - 0.013, eye_y - 0.012, centre + 0.013, eye_y + 0.012), fill=dark)
        draw.line(box(centre - 0.045, eye_y - 0.05, centre + 0.04, eye_y - 0.055), fill=style.hair,
                  width=max(2, round(0.008 * height)))
    shade = tuple(max(0, c - 45) for c in style.skin)
    draw.line(box(0.5, eye_y + 0.03, 0.49, eye_y + 0.13), fill=shade, width=max(1, round(0.004 * height)))
    draw.arc(box(0.5 - half * 0.35, 0.64, 0.5 + half * 0.35, 0.72), 20, 160, fill=(150, 70, 70),
             width=max(2, round(0.007 * height)))
    return image


def encode_jpeg(image: Image.Image, max_bytes: int | None = None) -> bytes:
    """JPEG bytes at the best quality that stays within ``max_bytes`` (if given)."""
    for quality in _QUALITIES:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, optimize=True)
        data = buffer.getvalue()
        if max_bytes is None or len(data) <= max_bytes:
            return data
    raise PopulationError(f"cannot encode the photo in {max_bytes} bytes")


def make_photo(rng: random.Random, citizen: Citizen) -> bytes:
    """The chip photo (public-zone DG10): 300 × 385 px JPEG, at most 20 KB."""
    return encode_jpeg(render_portrait(draw_style(rng, citizen), *CHIP_PHOTO_SIZE), CHIP_PHOTO_MAX_BYTES)


def make_print_photo(rng: random.Random, citizen: Citizen) -> bytes:
    """The application photo for the card face (CARD-11): 826 × 1062 px JPEG (not stored on the chip).

    The same ``rng`` state as for :func:`make_photo` draws the same portrait.
    """
    return encode_jpeg(render_portrait(draw_style(rng, citizen), *PRINT_PHOTO_SIZE))
