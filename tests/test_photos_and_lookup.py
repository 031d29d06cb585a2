"""Photos as evidence (real multipart uploads through /graphql/, signed links),
the guest's order look-up and the desk's refund preview."""

import io
import json
import struct
import time
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.test.client import Client
from graphql_jwt.shortcuts import get_token
from PIL import Image, PngImagePlugin

from saleor_aftersales import photos
from saleor_aftersales.models import AftersalesPhoto, CustomerEmail

from .conftest import assert_permission_denied, configure, create_return, line_input
from .queries import APPROVE, RECEIVE, STAFF_REQUESTS

UPLOAD = """
mutation Upload($id: ID!, $file: Upload!, $token: UUID) {
  aftersalesPhotoUpload(id: $id, file: $file, orderToken: $token) {
    photo { id url thumbnailUrl contentType size uploadedBy }
    aftersalesRequest { photos { id url thumbnailUrl } }
    errors { field code message }
  }
}
"""
LOOKUP = """
query Lookup($number: String!, $email: String!) {
  aftersalesOrderLookup(number: $number, email: $email) {
    orderToken orderNumber errors { code message }
  }
}
"""
PREVIEW = """
query Preview($id: ID!, $shipping: Boolean, $fee: Decimal) {
  aftersalesRefundPreview(id: $id, includeShipping: $shipping, restockingFee: $fee) {
    goods { amount } restockingFee { amount } shipping { amount } amount { amount }
    maximum { amount } errors { field code }
  }
}
"""


def image_bytes(fmt="PNG", size=(32, 32)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, fmt)
    return buffer.getvalue()


def post_photo(headers, claim_id, content, name="photo.png", token=None):
    """A multipart request exactly as the portal sends it; the answer's bytes."""
    file = io.BytesIO(content)
    file.name = name
    response = Client().post(
        "/graphql/",
        {
            "operations": json.dumps(
                {
                    "query": UPLOAD,
                    "variables": {"id": claim_id, "file": None, "token": token},
                }
            ),
            "map": json.dumps({"0": ["variables.file"]}),
            "0": file,
        },
        **headers,
    )
    assert response.status_code == 200, response.content
    return response.content


def upload(user, claim_id, content, name="photo.png", token=None):
    headers = {"HTTP_AUTHORIZATION": f"JWT {get_token(user)}"} if user else {}
    return json.loads(post_photo(headers, claim_id, content, name, token))


def test_a_customer_attaches_a_photo_that_staff_open_by_its_signed_link(
    customer, claim, staff_user
):
    result = upload(customer, claim["id"], image_bytes("JPEG"), "broken.jpg")
    payload = result["data"]["aftersalesPhotoUpload"]
    assert payload["errors"] == []
    assert payload["photo"]["contentType"] == "image/jpeg"
    assert payload["photo"]["uploadedBy"] == "CUSTOMER"
    assert payload["aftersalesRequest"]["photos"][0]["id"] == payload["photo"]["id"]

    response = Client().get(payload["photo"]["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == (
        AftersalesPhoto.objects.get().file.read()
    )


def test_a_guest_uploads_with_the_order_token(guest_order, anonymous_api):
    line = guest_order.lines.get()
    claim = create_return(
        anonymous_api, guest_order, [line_input(line, 1)], token=guest_order.token
    )["aftersalesRequest"]
    result = upload(
        None, claim["id"], image_bytes("WEBP"), token=str(guest_order.token)
    )
    assert result["data"]["aftersalesPhotoUpload"]["errors"] == []
    # Re-encoded: a WebP without transparency is kept as a JPEG.
    assert AftersalesPhoto.objects.get().content_type == "image/jpeg"


@pytest.mark.parametrize(
    "content, name, code",
    [
        (b"GIF89a not really", "photo.png", "INVALID_FILE_TYPE"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg", "INVALID_FILE_TYPE"),
        (b"%PDF-1.4 ...", "invoice.jpg", "INVALID_FILE_TYPE"),
        (b"\x89PNG" + b"0" * (photos.MAX_BYTES + 10), "huge.png", "FILE_TOO_LARGE"),
        # A real JPEG header whose pixels stop short: Pillow's error stays inside.
        (None, "truncated.jpg", "INVALID_FILE_TYPE"),
    ],
)
def test_wrong_or_oversized_files_are_refused_and_nothing_is_kept(
    customer, claim, content, name, code
):
    if content is None:
        content = image_bytes("JPEG", (640, 480))[:400]
    result = upload(customer, claim["id"], content, name)
    assert "errors" not in result, result
    errors = result["data"]["aftersalesPhotoUpload"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("file", code)]
    assert not AftersalesPhoto.objects.exists()


def test_a_claim_holds_at_most_five_photos(customer, claim):
    for _ in range(photos.MAX_PER_CLAIM):
        assert (
            upload(customer, claim["id"], image_bytes())["data"][
                "aftersalesPhotoUpload"
            ]["errors"]
            == []
        )
    errors = upload(customer, claim["id"], image_bytes())["data"][
        "aftersalesPhotoUpload"
    ]["errors"]
    assert errors[0]["code"] == "TOO_MANY_FILES"
    assert AftersalesPhoto.objects.count() == photos.MAX_PER_CLAIM


def test_strangers_cannot_upload_or_guess_links(
    other_customer, claim, guest_order, customer
):
    assert_permission_denied(upload(other_customer, claim["id"], image_bytes()))
    assert_permission_denied(upload(None, claim["id"], image_bytes()))
    assert_permission_denied(
        upload(None, claim["id"], image_bytes(), token=str(guest_order.token))
    )
    assert not AftersalesPhoto.objects.exists()

    upload(customer, claim["id"], image_bytes())
    good = AftersalesPhoto.objects.get()
    forged = signing.TimestampSigner(salt="another-salt").sign(str(good.pk))
    assert Client().get(f"/aftersales/photos/{forged}/").status_code == 404
    assert Client().get(f"/aftersales/photos/{good.pk}/").status_code == 404


def test_photo_links_expire(customer, claim, monkeypatch):
    upload(customer, claim["id"], image_bytes())
    url = photos.signed_url(AftersalesPhoto.objects.get())
    later = time.time() + photos.LINK_SECONDS + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert Client().get(url).status_code == 404


def bilevel_png(width, height):
    """A valid, black 1-bit PNG written row by row: tens of kB whatever its size
    (Pillow would need a byte a pixel to make it)."""

    def chunk(kind, body):
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte, then the bits
    pixels = b"".join(compressor.compress(row) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels + compressor.flush())
        + chunk(b"IEND", b"")
    )


def exif_with_gps(orientation=6):
    """EXIF (little-endian TIFF) with an orientation and a GPS position, written
    by hand: Pillow 7.1 can't write the GPS IFD."""

    def entry(tag, kind, count, value):
        return struct.pack("<HHI", tag, kind, count) + value

    gps_at = 8 + 2 + 2 * 12 + 4
    rationals_at = gps_at + 2 + 4 * 12 + 4
    ifd0 = (
        struct.pack("<H", 2)
        + entry(0x0112, 3, 1, struct.pack("<HH", orientation, 0))
        + entry(0x8825, 4, 1, struct.pack("<I", gps_at))
        + struct.pack("<I", 0)
    )
    gps = (
        struct.pack("<H", 4)
        + entry(1, 2, 2, b"N\0\0\0")
        + entry(2, 5, 3, struct.pack("<I", rationals_at))
        + entry(3, 2, 2, b"E\0\0\0")
        + entry(4, 5, 3, struct.pack("<I", rationals_at + 24))
        + struct.pack("<I", 0)
    )
    rationals = struct.pack("<12I", 52, 1, 22, 1, 3, 1, 4, 1, 53, 1, 7, 1)
    return b"Exif\0\0II*\0" + struct.pack("<I", 8) + ifd0 + gps + rationals


def media_files():
    return {path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}


def stored(field):
    field.open("rb")
    try:
        image = Image.open(io.BytesIO(field.read()))
        image.load()
        return image
    finally:
        field.close()


def fetched(url):
    response = Client().get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "size",
    [
        (20000, 20000),  # Pillow's DecompressionBombError
        (13000, 13000),  # Pillow's DecompressionBombWarning
        (8000, 5001),  # just over MAX_PIXELS
    ],
)
def test_images_over_the_pixel_limit_are_refused_with_our_code(customer, claim, size):
    content = bilevel_png(*size)
    assert len(content) < 100 * 1024
    before = media_files()
    result = upload(customer, claim["id"], content, "bomb.png")
    assert "errors" not in result, result
    errors = result["data"]["aftersalesPhotoUpload"]["errors"]
    assert errors == [
        {
            "field": "file",
            "code": "IMAGE_TOO_LARGE",
            "message": "Photos can be at most 40 megapixels.",
        }
    ]
    assert not AftersalesPhoto.objects.exists()
    assert media_files() == before


def test_an_image_at_the_pixel_limit_is_kept_scaled_down(customer, claim):
    assert 8000 * 5000 == photos.MAX_PIXELS
    result = upload(customer, claim["id"], bilevel_png(8000, 5000), "scan.png")
    assert result["data"]["aftersalesPhotoUpload"]["errors"] == []
    photo = AftersalesPhoto.objects.get()
    assert stored(photo.file).size == (2048, 1280)
    assert stored(photo.thumbnail).size == (320, 200)


def test_photos_are_kept_scaled_down_with_a_thumbnail(customer, claim):
    result = upload(customer, claim["id"], image_bytes("JPEG", (3000, 2000)), "a.jpg")
    payload = result["data"]["aftersalesPhotoUpload"]
    assert payload["errors"] == []
    photo = AftersalesPhoto.objects.get()
    kept, thumbnail = stored(photo.file), stored(photo.thumbnail)
    assert (kept.format, kept.size) == ("JPEG", (2048, 1365))
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (320, 213))
    assert payload["photo"]["size"] == photo.file.size == photo.size
    # The links show each: the photo's, the bounded photo; the thumbnail's, it.
    assert fetched(payload["photo"]["url"]) == photo.file.open("rb").read()
    assert fetched(payload["photo"]["thumbnailUrl"]) == (
        photo.thumbnail.open("rb").read()
    )
    assert payload["aftersalesRequest"]["photos"] == [
        {key: payload["photo"][key] for key in ("id", "url", "thumbnailUrl")}
    ]


@pytest.mark.parametrize(
    "mode, colour, fmt, content_type",
    [
        ("RGBA", (200, 10, 10, 128), "PNG", "image/webp"),  # transparency kept
        ("RGBA", (200, 10, 10, 255), "PNG", "image/jpeg"),  # opaque alpha dropped
        ("P", 3, "PNG", "image/jpeg"),
        ("L", 90, "WEBP", "image/jpeg"),
    ],
)
def test_photos_are_re_encoded(customer, claim, mode, colour, fmt, content_type):
    buffer = io.BytesIO()
    Image.new(mode, (40, 30), colour).save(buffer, fmt)
    result = upload(customer, claim["id"], buffer.getvalue(), "x.png")
    assert result["data"]["aftersalesPhotoUpload"]["errors"] == []
    photo = AftersalesPhoto.objects.get()
    assert photo.content_type == content_type
    for field in (photo.file, photo.thumbnail):
        image = stored(field)
        assert Image.MIME[image.format] == content_type
        assert image.size == (40, 30)  # never enlarged
        assert ("A" in image.getbands()) == (content_type == "image/webp")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_gps_and_other_metadata_are_not_kept(customer, claim, fmt):
    buffer = io.BytesIO()
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "Taken at home, 52.3N 4.9E")
    extra = {"pnginfo": text} if fmt == "PNG" else {}
    Image.new("RGB", (300, 200), (10, 120, 200)).save(
        buffer, fmt, exif=exif_with_gps(), icc_profile=b"a profile", **extra
    )
    sent = Image.open(io.BytesIO(buffer.getvalue()))
    sent.load()
    assert sent.getexif()[0x8825][1] == "N"  # the upload does carry a position
    assert "icc_profile" in sent.info

    result = upload(customer, claim["id"], buffer.getvalue(), f"x.{fmt.lower()}")
    assert result["data"]["aftersalesPhotoUpload"]["errors"] == []
    photo = AftersalesPhoto.objects.get()
    for field in (photo.file, photo.thumbnail):
        image = stored(field)
        assert not image.getexif()
        assert not {"exif", "icc_profile", "Comment", "dpi"} & set(image.info)
        field.open("rb")
        assert b"Exif" not in field.read()
        field.close()
    # Turned upright by the orientation before it was dropped.
    assert stored(photo.file).size == (200, 300)
    assert stored(photo.thumbnail).size == (200, 300)


def test_thumbnail_links_are_signed_and_expire(customer, claim, monkeypatch):
    upload(customer, claim["id"], image_bytes("JPEG", (800, 600)))
    photo = AftersalesPhoto.objects.get()
    thumbnail_url = photos.signed_thumbnail_url(photo)
    assert thumbnail_url != photos.signed_url(photo)
    assert fetched(thumbnail_url) == photo.thumbnail.open("rb").read()

    token = photos.signed_url(photo).rstrip("/").rsplit("/", 1)[1]
    pk, signed = token.split(":", 1)
    forged = signing.TimestampSigner(salt="another-salt").sign(f"{photo.pk}:thumb")
    for bad in (
        f"{pk}:thumb:{signed}",  # a photo's signature on a thumbnail's value
        thumbnail_url.rstrip("/").rsplit("/", 1)[1].replace(":thumb:", ":full:"),
        forged,
        f"{photo.pk}:thumb",
    ):
        assert Client().get(f"/aftersales/photos/{bad}/").status_code == 404, bad
    # No unsigned parameter picks the thumbnail or anything else.
    full = fetched(photos.signed_url(photo) + "?size=thumb")
    assert full == photo.file.open("rb").read()

    later = time.time() + photos.LINK_SECONDS + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert Client().get(thumbnail_url).status_code == 404


def test_photos_kept_before_thumbnails_show_the_photo_as_thumbnail(customer, claim):
    upload(customer, claim["id"], image_bytes("JPEG", (800, 600)))
    AftersalesPhoto.objects.update(thumbnail="")
    photo = AftersalesPhoto.objects.get()
    assert fetched(photos.signed_thumbnail_url(photo)) == (photo.file.open("rb").read())


def test_listing_photos_costs_the_same_for_1_and_5_photos(staff_api, customer, claim):
    listing = STAFF_REQUESTS.replace(
        "userEmail", "userEmail photos { id url thumbnailUrl contentType size }"
    )
    one = """query ($id: ID!) { aftersalesRequest(id: $id) {
        photos { id url thumbnailUrl contentType size uploadedBy createdAt } } }"""
    counts = []
    for wanted in (1, photos.MAX_PER_CLAIM):
        while AftersalesPhoto.objects.count() < wanted:
            upload(customer, claim["id"], image_bytes())
        listed, data = staff_api.count_queries(listing, {"first": 10})
        node = data["aftersalesRequests"]["edges"][0]["node"]
        assert len(node["photos"]) == wanted
        single, data = staff_api.count_queries(one, {"id": claim["id"]})
        assert len(data["aftersalesRequest"]["photos"]) == wanted
        counts.append((listed, single))
    assert counts[0] == counts[1], counts


def test_the_old_lookup_only_sends_a_link(anonymous_api, guest_order):
    """aftersalesOrderLookup (deprecated) no longer hands out the token: it
    e-mails the guest order a sign-in link, and answers alike for every order."""
    answers = []
    for number, email in (
        (f"#{guest_order.pk}", "GUEST@example.com"),
        (str(guest_order.pk), "other@example.com"),
        ("999999", "guest@example.com"),
        ("abc", "guest@example.com"),
        ("", ""),
    ):
        answers.append(
            anonymous_api.data(LOOKUP, {"number": number, "email": email})[
                "aftersalesOrderLookup"
            ]
        )
    assert answers == [{"orderToken": None, "orderNumber": None, "errors": []}] * 5
    # One message, sent after commit (tests/test_order_links.py reads it).
    sent = CustomerEmail.objects.values_list("kind", "to_email")
    assert list(sent) == [("order_link", "guest@example.com")]


def codes_of(answer):
    return tuple(error["code"] for error in answer["errors"])


def test_order_lookups_are_throttled(anonymous_api, guest_order):
    configure(**{"Warranty verifications per minute": "3"})
    codes = [
        codes_of(
            anonymous_api.data(LOOKUP, {"number": "1", "email": "x@example.com"})[
                "aftersalesOrderLookup"
            ]
        )
        for _ in range(4)
    ]
    assert codes == [(), (), (), ("THROTTLED",)]
    # Even the right answer waits for the next minute.
    blocked = anonymous_api.data(
        LOOKUP, {"number": str(guest_order.pk), "email": "guest@example.com"}
    )["aftersalesOrderLookup"]
    assert codes_of(blocked) == ("THROTTLED",)
    assert not CustomerEmail.objects.exists()


def test_refund_preview_shows_what_a_refund_would_pay(staff_api, claim, order):
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    preview = staff_api.data(PREVIEW, {"id": claim["id"], "fee": "10"})[
        "aftersalesRefundPreview"
    ]
    assert preview["errors"] == []
    assert preview["goods"]["amount"] == 50.0
    # The fee applies to changed-mind lines only; this claim is for a defect.
    assert preview["restockingFee"]["amount"] == 0.0
    assert preview["amount"]["amount"] == 50.0
    refused = staff_api.data(PREVIEW, {"id": claim["id"], "shipping": True})[
        "aftersalesRefundPreview"
    ]
    assert refused["errors"] == [
        {"field": "includeShipping", "code": "SHIPPING_NOT_REFUNDABLE"}
    ]


def test_refund_preview_is_for_staff_only(customer_api, anonymous_api, claim):
    for api in (customer_api, anonymous_api):
        assert_permission_denied(api.post(PREVIEW, {"id": claim["id"]}))


def test_the_pages_are_served_with_a_strict_policy(client, db):
    for page in ("portal", "console"):
        response = client.get(f"/aftersales/{page}/")
        assert response.status_code == 200
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert response["Referrer-Policy"] == "no-referrer"
        assert b"common.js" in response.content
        assert f"{page}.js".encode() in response.content
    assert client.get("/aftersales/assets/portal.js").status_code == 200
    assert client.get("/aftersales/assets/..%2Fviews.py").status_code == 404
    assert client.get("/aftersales/assets/nothing.js").status_code == 404


def test_digits_other_than_0_to_9_find_no_order(anonymous_api, guest_order):
    """Superscripts are digits to str.isdigit() but no number to int(): the look-up
    answers as for any other number, never raises (found by tests/test_fuzzing.py)."""
    for number in ("²", f"{guest_order.pk}²"):
        missed = anonymous_api.data(
            LOOKUP, {"number": number, "email": "guest@example.com"}
        )["aftersalesOrderLookup"]
        assert missed["errors"] == [], number
