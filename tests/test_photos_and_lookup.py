"""Photos as evidence (real multipart uploads through /graphql/, signed links),
the guest's order look-up and the desk's refund preview."""

import io
import json
import time

import pytest
from django.core import signing
from django.test.client import Client
from graphql_jwt.shortcuts import get_token
from PIL import Image

from saleor_aftersales import photos
from saleor_aftersales.models import AftersalesPhoto

from .conftest import assert_permission_denied, configure, create_return, line_input
from .queries import APPROVE, RECEIVE

UPLOAD = """
mutation Upload($id: ID!, $file: Upload!, $token: UUID) {
  aftersalesPhotoUpload(id: $id, file: $file, orderToken: $token) {
    photo { id url contentType size uploadedBy }
    aftersalesRequest { photos { id url } }
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


def upload(user, claim_id, content, name="photo.png", token=None):
    """A multipart request exactly as the portal sends it."""
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"JWT {get_token(user)}"} if user else {}
    file = io.BytesIO(content)
    file.name = name
    response = client.post(
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
    return json.loads(response.content)


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
    assert AftersalesPhoto.objects.get().content_type == "image/webp"


@pytest.mark.parametrize(
    "content, name, code",
    [
        (b"GIF89a not really", "photo.png", "INVALID_FILE_TYPE"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg", "INVALID_FILE_TYPE"),
        (b"%PDF-1.4 ...", "invoice.jpg", "INVALID_FILE_TYPE"),
        (b"\x89PNG" + b"0" * (photos.MAX_BYTES + 10), "huge.png", "FILE_TOO_LARGE"),
    ],
)
def test_wrong_or_oversized_files_are_refused_and_nothing_is_kept(
    customer, claim, content, name, code
):
    result = upload(customer, claim["id"], content, name)
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


def test_guests_find_their_order_by_number_and_email(anonymous_api, guest_order):
    found = anonymous_api.data(
        LOOKUP, {"number": f"#{guest_order.pk}", "email": "GUEST@example.com"}
    )["aftersalesOrderLookup"]
    assert found["errors"] == []
    assert found["orderToken"] == str(guest_order.token)
    for number, email in (
        (str(guest_order.pk), "other@example.com"),
        ("999999", "guest@example.com"),
        ("abc", "guest@example.com"),
        ("", ""),
    ):
        missed = anonymous_api.data(LOOKUP, {"number": number, "email": email})[
            "aftersalesOrderLookup"
        ]
        assert missed["orderToken"] is None
        assert [e["code"] for e in missed["errors"]] == ["NOT_FOUND"]


def test_order_lookups_are_throttled(anonymous_api, guest_order):
    configure(**{"Warranty verifications per minute": "3"})
    codes = [
        anonymous_api.data(LOOKUP, {"number": "1", "email": "x@example.com"})[
            "aftersalesOrderLookup"
        ]["errors"][0]["code"]
        for _ in range(4)
    ]
    assert codes == ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "THROTTLED"]
    # Even the right answer waits for the next minute.
    blocked = anonymous_api.data(
        LOOKUP, {"number": str(guest_order.pk), "email": "guest@example.com"}
    )["aftersalesOrderLookup"]
    assert blocked["orderToken"] is None


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
        assert b"common.js" in response.content
        assert f"{page}.js".encode() in response.content
    assert client.get("/aftersales/assets/portal.js").status_code == 200
    assert client.get("/aftersales/assets/..%2Fviews.py").status_code == 404
    assert client.get("/aftersales/assets/nothing.js").status_code == 404
