"""Hero image renditions: a few widths made once with Pillow, stored through
Django's storage API, listed in `Article.hero_renditions` for `srcset`.

Each width is made twice: WebP (about a third smaller at the same look, offered
first through `<picture>`) and JPEG for browsers without WebP. The 320 px copy
is for phone thumbnails and one-column-of-four cards; 640 for a card across a
phone; 960 and 1600 for the hero.

Decoding costs time and memory by the pixel (a 144-megapixel PNG took 6.5 s of a
worker), so a picture over MAX_IMAGE_PIXELS is refused from its header alone:
`validate_pixels` runs on every upload form (a validator of the image fields),
and `make_renditions` checks again before it decodes anything. Under the limit
renditions are made on save, in the request: at 40 megapixels that is about
a second of the editor's save, and the page they see next shows the copies."""

import warnings
from io import BytesIO
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

WIDTHS = (320, 640, 960, 1600)
FORMATS = (("sizes", "JPEG", "jpg", {"quality": 82, "optimize": True, "progressive": True}),
           ("webp", "WEBP", "webp", {"quality": 78, "method": 4}))  # fmt: skip


def declared_size(file) -> tuple[int, int]:
    """Width and height from the file's header; Image.open reads no pixel data."""
    position = file.tell()
    try:
        with warnings.catch_warnings():  # Pillow's own bomb warning: we refuse far below it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                return image.size
    finally:
        file.seek(position)


def too_many_pixels(width: int, height: int) -> str | None:
    """Why a picture of this size is refused, or None when it is within MAX_IMAGE_PIXELS."""
    limit = settings.MAX_IMAGE_PIXELS
    if width * height <= limit:
        return None
    return (
        f"This picture is {width} × {height} pixels ({width * height / 1e6:.1f} megapixels). "
        f"The most this site takes is {limit / 1e6:.{0 if limit % 1_000_000 == 0 else 1}f} megapixels: "
        "export a smaller copy (3000 pixels on the long side is plenty) and upload that."
    )


def validate_pixels(value) -> None:
    """The image fields' validator: a new upload over MAX_IMAGE_PIXELS is refused before
    anything decodes it. A picture already stored was accepted when it came."""
    if not value or getattr(value, "_committed", True):
        return
    upload = value.file
    # forms.ImageField has opened the header already and left the image on the upload.
    image = getattr(upload, "image", None)
    width, height = image.size if image is not None else declared_size(upload)
    if reason := too_many_pixels(width, height):
        raise ValidationError(reason, code="too_many_pixels")


def make_renditions(image_field) -> dict:
    if not image_field:
        return {}
    image_field.open("rb")
    try:
        if reason := too_many_pixels(*declared_size(image_field)):  # a save that came round the forms
            raise ValueError(f"{image_field.name}: {reason}")
        with Image.open(image_field) as original:
            original = ImageOps.exif_transpose(original).convert("RGB")
            width, height = original.size
            stem = PurePosixPath(image_field.name).with_suffix("")
            made: dict[str, dict[str, str]] = {key: {} for key, *_ in FORMATS}
            for target in WIDTHS:
                w = min(target, width)  # the last copy is the full width (re-encoded), never an upscale
                copy = original.copy()
                copy.thumbnail((w, round(height * w / width)))
                for key, pil_format, ext, options in FORMATS:
                    buffer = BytesIO()
                    copy.save(buffer, format=pil_format, **options)
                    name = default_storage.save(f"renditions/{stem}-{w}.{ext}", ContentFile(buffer.getvalue()))
                    made[key][str(w)] = name
                if target >= width:
                    break
    finally:
        image_field.close()
    return {"width": width, "height": height, **made, "source": image_field.name}
