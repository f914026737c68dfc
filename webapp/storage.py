"""Pictures on disk: photos of damage and signature images.

Files are named by their SHA-256 under UPLOAD_DIR/<site>/, so the same picture uploaded twice is
stored once and a stored file can be checked against its record. The content is decoded with
Pillow before anything is kept: a file that only claims to be an image is refused."""
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

ALLOWED = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
THUMB = (320, 320)


class ImageRefused(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code  # too_large, not_image, type


@dataclass
class StoredImage:
    sha256: str
    content_type: str
    size: int
    width: int
    height: int
    path: str
    thumb_path: str


def root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def store_image(data: bytes, site_id: int, thumbnail: bool = True) -> StoredImage:
    if len(data) > MAX_BYTES:
        raise ImageRefused("too_large")
    if not data:
        raise ImageRefused("not_image")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        fmt = image.format
        width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRefused("not_image") from None
    if fmt not in ALLOWED:
        raise ImageRefused("type")
    if width * height > MAX_PIXELS:
        raise ImageRefused("too_large")
    content_type, ext = ALLOWED[fmt]
    digest = hashlib.sha256(data).hexdigest()
    folder = root() / str(site_id) / digest[:2]
    folder.mkdir(parents=True, exist_ok=True)
    rel = Path(str(site_id)) / digest[:2] / f"{digest}.{ext}"
    target = root() / rel
    if not target.exists():
        target.write_bytes(data)
    thumb_rel = rel
    if thumbnail:
        thumb_rel = Path(str(site_id)) / digest[:2] / f"{digest}.thumb.jpg"
        thumb_target = root() / thumb_rel
        if not thumb_target.exists():
            thumb = image.convert("RGB")
            try:
                from PIL import ImageOps
                thumb = ImageOps.exif_transpose(thumb)
            except Exception:  # noqa: BLE001 - orientation is a nicety
                pass
            thumb.thumbnail(THUMB)
            thumb.save(thumb_target, "JPEG", quality=80)
    return StoredImage(digest, content_type, len(data), width, height, str(rel), str(thumb_rel))


def open_path(rel: str) -> Path:
    """Absolute path of a stored file; refuses anything outside UPLOAD_DIR."""
    base = root().resolve()
    path = (base / rel).resolve()
    if base not in path.parents:
        raise FileNotFoundError(rel)
    return path
