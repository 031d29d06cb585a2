"""Photos as evidence on a claim: checked, stored with Django's storage, and shown
through short-lived signed links (an <img> can't send a JWT).

Only real JPEG, PNG or WebP images up to MAX_BYTES are kept, whatever name or
type the upload claims; a claim holds at most MAX_PER_CLAIM.
"""

import uuid
from typing import Optional

from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from PIL import Image, UnidentifiedImageError

from .actors import Actor
from .enums import RequestStatus
from .error_codes import AftersalesErrorCode as Code
from .error_codes import aftersales_error as _error
from .models import AftersalesPhoto, AftersalesRequest

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_CLAIM = 5
# Pillow's format name -> (content type, extension)
ACCEPTED = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
LINK_SECONDS = 3600
_SALT = "saleor-aftersales-photo"


def _image_format(data: bytes) -> Optional[str]:
    try:
        with Image.open(ContentFile(data)) as image:
            image.verify()
            return image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


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
    kind = ACCEPTED.get(_image_format(data) or "")
    if kind is None:
        raise _error(
            "file",
            "Only JPEG, PNG or WebP photos are accepted.",
            Code.INVALID_FILE_TYPE,
        )
    content_type, extension = kind
    with transaction.atomic():
        request = AftersalesRequest.objects.select_for_update().get(pk=request.pk)
        if request.status in (RequestStatus.CANCELLED, RequestStatus.CLOSED):
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
            size=len(data),
            actor_type=by.type,
        )
        photo.file.save(
            f"{uuid.uuid4().hex}.{extension}", ContentFile(data), save=False
        )
        photo.save()
    return photo


def signed_url(photo: AftersalesPhoto) -> str:
    token = signing.TimestampSigner(salt=_SALT).sign(str(photo.pk))
    return reverse("aftersales-photo", kwargs={"token": token})


def photo_for_token(token: str) -> Optional[AftersalesPhoto]:
    try:
        pk = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=LINK_SECONDS)
    except signing.BadSignature:
        return None
    return AftersalesPhoto.objects.filter(pk=pk).first()
