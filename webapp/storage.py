"""Pictures on disk: photos of damage and signature images.

Files are named by their SHA-256 under UPLOAD_DIR/<site>/, so the same picture uploaded twice is
stored once and a stored file can be checked against its record. The content is decoded with
Pillow before anything is kept: a file that only claims to be an image is refused."""
import base64
import binascii
import hashlib
import io
import re
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


_PNG_DATA_URL = re.compile(r"^data:image/png;base64,([A-Za-z0-9+/=]+)$")


def store_signature_png(data_url: str | None, site_id: int) -> StoredImage:
    """A signature pad's drawing (a PNG data URL, static/js/signature.js) stored like a photo,
    without a thumbnail. ImageRefused("signature_missing") when empty, not base64 or not a PNG."""
    match = _PNG_DATA_URL.match((data_url or "").strip())
    if not match:
        raise ImageRefused("signature_missing")
    try:
        raw = base64.b64decode(match.group(1), validate=True)
    except (binascii.Error, ValueError):
        raise ImageRefused("signature_missing") from None
    try:
        stored = store_image(raw, site_id, thumbnail=False)
    except ImageRefused:
        raise ImageRefused("signature_missing") from None
    if stored.content_type != "image/png":
        raise ImageRefused("signature_missing")
    return stored


def open_path(rel: str) -> Path:
    """Absolute path of a stored file; refuses anything outside UPLOAD_DIR."""
    base = root().resolve()
    path = (base / rel).resolve()
    if base not in path.parents:
        raise FileNotFoundError(rel)
    return path
