"""Photos as evidence on a claim: checked, re-encoded, stored with Django's storage,
and shown through short-lived signed links (an <img> can't send a JWT).

Only real JPEG, PNG or WebP images up to MAX_BYTES and MAX_PIXELS are accepted,
whatever name or type the upload claims; a claim holds at most MAX_PER_CLAIM.
The uploaded bytes are never kept: the image is decoded (its size is read from
the header first, so a decompression bomb is refused before any pixel is
decoded), turned upright by its EXIF orientation, scaled down to MAX_SIDE and
re-encoded without any metadata (no EXIF, so no GPS position; no ICC profile or
text chunks). A THUMB_SIDE thumbnail is kept beside it.

Re-encoding: JPEG for everything without (used) transparency, since evidence is
mostly camera photos and every browser shows it; lossy WebP where transparency
is used, which keeps it at a fraction of PNG's bytes (WebP was already accepted,
so every client shows it too).
"""

import io
import logging
import uuid
from typing import Optional, Tuple

from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from PIL import Image, ImageOps

from .actors import Actor
from .enums import Action
from .error_codes import AftersalesErrorCode as Code
from .error_codes import aftersales_error as _error
from .models import AftersalesPhoto, AftersalesRequest
from .workflow.actions import starts

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
# Width x height, read from the header before decoding. 40 MP decodes to at most
# 160 MB (RGBA); phones save 12-24 MP photos by default.
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048  # longest side of the photo kept
THUMB_SIDE = 320  # longest side of its thumbnail
QUALITY = 85
MAX_PER_CLAIM = AftersalesPhoto.MAX_PER_CLAIM
# Pillow's format name of the uploads accepted.
ACCEPTED = ("JPEG", "PNG", "WEBP")
# What is stored: (content type, extension, Pillow save options).
JPEG = ("image/jpeg", "jpg", {"format": "JPEG", "quality": QUALITY})
WEBP = ("image/webp", "webp", {"format": "WEBP", "quality": QUALITY})
LINK_SECONDS = 3600
_SALT = "saleor-aftersales-photo"
THUMB = "thumb"  # signed together with the photo's pk in a thumbnail's link


def _too_large():
    return _error(
        "file",
        f"Photos can be at most {MAX_PIXELS // 1_000_000} megapixels.",
        Code.IMAGE_TOO_LARGE,
    )


def _not_an_image():
    return _error(
        "file", "Only JPEG, PNG or WebP photos are accepted.", Code.INVALID_FILE_TYPE
    )


def _fit(image: Image.Image, side: int) -> Image.Image:
    width, height = image.size
    scale = side / max(width, height)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.LANCZOS, reducing_gap=3.0)


def _normalized(image: Image.Image) -> Image.Image:
    """The image as L, RGB or RGBA (what resizing and saving need), copied only
    when its mode isn't one of those."""
    if image.mode in ("L", "RGB") and "transparency" not in image.info:
        return image
    if image.mode == "RGBA":
        return image
    if image.mode == "1":  # bilevel: 1 byte a pixel, not RGB's 4
        return image.convert("L")
    if image.mode == "I":  # 16-bit greyscale PNG
        return image.point(lambda value: value * (1 / 256)).convert("L")
    transparent = image.mode in ("LA", "PA", "La", "RGBa") or (
        "transparency" in image.info
    )
    return image.convert("RGBA" if transparent else "RGB")


def _decode(data: bytes) -> Image.Image:
    """The upload as an upright RGB or RGBA image of at most MAX_SIDE, or a
    refusal with our own code: no Pillow message ever reaches the caller."""
    # Pillow's own bomb check (a warning past its MAX_IMAGE_PIXELS, an error past
    # twice that) runs at open; MAX_PIXELS is below both and is checked from the
    # same header before anything is decoded. (Turning the warning into an error
    # would change the process's warning filters under other threads.)
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _too_large()
    except Exception:  # Pillow raises many kinds on hostile input
        raise _not_an_image()
    # Nothing is decoded yet: refuse other formats and huge images here.
    if image.format not in ACCEPTED:
        raise _not_an_image()
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_large()
    try:
        # JPEG: decode at 1/2, 1/4 or 1/8 scale when that still covers MAX_SIDE.
        image.draft(None, (MAX_SIDE, MAX_SIDE))
        image.load()
        # Scaled down before turning upright, not to copy the full-size
        # image; the EXIF travels along in .info.
        image = _fit(_normalized(image), MAX_SIDE)
    except Image.DecompressionBombError:
        raise _too_large()
    except Exception:
        logger.info("A photo upload could not be decoded.", exc_info=True)
        raise _not_an_image()
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # unreadable EXIF: the photo as it was taken
        return image


def _encode(image: Image.Image, side: int) -> Tuple[bytes, str, str]:
    image = _fit(image, side)
    kind = WEBP if image.mode == "RGBA" else JPEG
    image.info = {}  # no EXIF, GPS, ICC profile or comment is written
    buffer = io.BytesIO()
    content_type, extension, options = kind
    image.save(buffer, **options)
    return buffer.getvalue(), content_type, extension


def _renditions(data: bytes):
    """(photo bytes, thumbnail bytes, content type, extension) of the upload."""
    image = _decode(data)
    if image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 255:
        image = image.convert("RGB")  # an alpha channel nothing shows through
    photo, content_type, extension = _encode(image, MAX_SIDE)
    thumbnail, _, _ = _encode(image, THUMB_SIDE)
    return photo, thumbnail, content_type, extension


def attach(request: AftersalesRequest, upload, *, by: Actor) -> AftersalesPhoto:
    """Keep one uploaded photo on the claim, or refuse it with a clear code."""
    if upload is None:
        raise _error("file", "Choose a photo to upload.", Code.REQUIRED)
    if upload.size > MAX_BYTES:
        raise _error(
            "file",
            f"Photos can be at most {MAX_BYTES // (1024 * 1024)} MB.",
            Code.FILE_TOO_LARGE,
        )
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _error(
            "file",
            f"Photos can be at most {MAX_BYTES // (1024 * 1024)} MB.",
            Code.FILE_TOO_LARGE,
        )
    photo_bytes, thumbnail_bytes, content_type, extension = _renditions(data)
    with transaction.atomic():
        request = AftersalesRequest.objects.select_for_update().get(pk=request.pk)
        if request.status not in starts(Action.UPLOAD_PHOTO):
            raise _error(
                None, "Photos can't be added to a closed claim.", Code.INVALID_STATUS
            )
        if request.photos.count() >= MAX_PER_CLAIM:
            raise _error(
                "file",
                f"A claim holds at most {MAX_PER_CLAIM} photos.",
                Code.TOO_MANY_FILES,
            )
        photo = AftersalesPhoto(
            request=request,
            content_type=content_type,
            size=len(photo_bytes),
            actor_type=by.type,
        )
        name = f"{uuid.uuid4().hex}.{extension}"
        photo.file.save(name, ContentFile(photo_bytes), save=False)
        photo.thumbnail.save(name, ContentFile(thumbnail_bytes), save=False)
        photo.save()
    return photo


def _link(value: str) -> str:
    token = signing.TimestampSigner(salt=_SALT).sign(value)
    return reverse("aftersales-photo", kwargs={"token": token})


def signed_url(photo: AftersalesPhoto) -> str:
    return _link(str(photo.pk))


def signed_thumbnail_url(photo: AftersalesPhoto) -> str:
    """The thumbnail's link: "thumb" is part of the signed value, so a photo's
    link can't be turned into a thumbnail's or the other way round."""
    return _link(f"{photo.pk}:{THUMB}")


def file_for_token(token: str) -> Optional[Tuple[FieldFile, str]]:
    """(file, content type) a signed link shows, or None when it isn't valid.
    Photos kept before thumbnails existed show the photo as their thumbnail."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=LINK_SECONDS)
    except signing.BadSignature:
        return None
    pk, _, variant = value.partition(":")
    if not pk.isdigit() or variant not in ("", THUMB):
        return None
    photo = AftersalesPhoto.objects.filter(pk=int(pk)).first()
    if photo is None:
        return None
    file = photo.thumbnail if variant == THUMB and photo.thumbnail else photo.file
    return file, photo.content_type
