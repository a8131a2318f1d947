"""Hero image renditions: a few widths made once with Pillow, stored through
Django's storage API, listed in `Article.hero_renditions` for `srcset`.

Each width is made twice: WebP (about a third smaller at the same look, offered
first through `<picture>`) and JPEG for browsers without WebP. The 320 px copy
is for phone thumbnails and one-column-of-four cards; 640 for a card across a
phone; 960 and 1600 for the hero."""

from io import BytesIO
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

WIDTHS = (320, 640, 960, 1600)
FORMATS = (("sizes", "JPEG", "jpg", {"quality": 82, "optimize": True, "progressive": True}),
           ("webp", "WEBP", "webp", {"quality": 78, "method": 4}))  # fmt: skip


def make_renditions(image_field) -> dict:
    if not image_field:
        return {}
    image_field.open("rb")
    try:
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
