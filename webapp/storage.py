"""Pictures on disk: photos of damage and signature images.

Files are named by their SHA-256 under UPLOAD_DIR/<site>/, so the same picture uploaded twice is
stored once and a stored file can be checked against its record. The content is decoded with
Pillow before anything is kept: a file that only claims to be an image is refused.

A small file can hold a huge picture (a 154 KB PNG of 6300×6300 decodes to 160 MB), so the
pixel count is read from the header and checked against UPLOAD_MAX_PIXELS before any pixel is
decoded, and thumbnails are decoded reduced (JPEG's DCT scaling through ``draft``)."""
import base64
import binascii
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 16_000_000  # default of UPLOAD_MAX_PIXELS: a 16 Mpx phone or tablet photo passes
THUMB = (320, 320)


class ImageRefused(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code  # too_large, too_many_pixels, not_image, type


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


def max_pixels() -> int:
    return current_app.config.get("UPLOAD_MAX_PIXELS", MAX_PIXELS)


def store_image(data: bytes, site_id: int, thumbnail: bool = True) -> StoredImage:
    if len(data) > MAX_BYTES:
        raise ImageRefused("too_large")
    if not data:
        raise ImageRefused("not_image")
    fmt, width, height = _checked_header(data)
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
            _write_thumbnail(data, thumb_target)
    return StoredImage(digest, content_type, len(data), width, height, str(rel), str(thumb_rel))


def _checked_header(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of an allowed picture of at most max_pixels(), from its header;
    then ``verify`` walks the file's structure (checksums), still without decoding the pixels."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt, (width, height) = probe.format, probe.size
            if fmt in ALLOWED and width * height <= max_pixels():
                probe.verify()
    except Image.DecompressionBombError:
        raise ImageRefused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("not_image") from None
    if fmt not in ALLOWED:
        raise ImageRefused("type")
    if width * height > max_pixels():
        raise ImageRefused("too_many_pixels")
    return fmt, width, height


def _write_thumbnail(data: bytes, target: Path) -> None:
    with Image.open(io.BytesIO(data)) as image:
        # draft() lets a JPEG decode at 1/2, 1/4 or 1/8 of its size straight away; thumbnail()
        # then shrinks with reduce() before resampling, so no full-size copy is ever made.
        image.draft("RGB", THUMB)
        image.thumbnail(THUMB)
        thumb = ImageOps.exif_transpose(image).convert("RGB")
    thumb.save(target, "JPEG", quality=80)


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
