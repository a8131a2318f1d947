"""Hero image renditions: a few widths made once with Pillow, stored through
Django's storage API, listed in `Article.hero_renditions` for `srcset`."""

from io import BytesIO
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

WIDTHS = (480, 960, 1600)


def make_renditions(image_field) -> dict:
    if not image_field:
        return {}
    image_field.open("rb")
    try:
        with Image.open(image_field) as original:
            original = ImageOps.exif_transpose(original).convert("RGB")
            width, height = original.size
            stem = PurePosixPath(image_field.name).with_suffix("")
            sizes: dict[str, str] = {}
            for target in WIDTHS:
                if target >= width and sizes:
                    break
                w = min(target, width)
                copy = original.copy()
                copy.thumbnail((w, round(height * w / width)))
                buffer = BytesIO()
                copy.save(buffer, format="JPEG", quality=82, optimize=True, progressive=True)
                name = default_storage.save(f"renditions/{stem}-{w}.jpg", ContentFile(buffer.getvalue()))
                sizes[str(w)] = name
    finally:
        image_field.close()
    return {"width": width, "height": height, "sizes": sizes, "source": image_field.name}
