"""The printable return slip: drawn by reportlab, read back with poppler's
pdftotext and pdfinfo, its QR code decoded from the rendered page (pdftoppm)
by a small QR reader below; served through signed, expiring links to the claim's
owner and staff only."""

import os
import subprocess
import tempfile
import time
from datetime import timedelta

import pytest
import pytz
from django.core import signing
from django.test.client import Client
from PIL import Image

from saleor_aftersales import slips
from saleor_aftersales.models import AftersalesRequest
from saleor_aftersales.settings import DEFAULTS

from .conftest import assert_permission_denied, create_return, line_input
from .queries import APPROVE, RECEIVE

SLIP = """
query Slip($id: ID!, $token: UUID, $paper: AftersalesPaper) {
  aftersalesRequest(id: $id, orderToken: $token) {
    number status returnSlipUrl(paper: $paper)
  }
}
"""
A4_SIZE, LETTER_SIZE = "595.276 x 841.89 pts", "612 x 792 pts"


def pdftotext(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def page_size(pdf: bytes) -> str:
    info = subprocess.run(
        ["pdfinfo", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return next(line for line in info.splitlines() if line.startswith("Page size:"))


def slip_url(api, claim_id, paper=None, token=None):
    variables = {"id": claim_id, "token": token}
    if paper:
        variables["paper"] = paper
    return api.data(SLIP, variables)["aftersalesRequest"]["returnSlipUrl"]


def download(url, **headers):
    response = Client().get(url, **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.startswith(b"%PDF-")
    return response


def expected_deadline(chinese=False):
    """The approval time plus 14 days, as a date in the business time zone."""
    approved_at = AftersalesRequest.objects.get().approved_at
    day = (
        (approved_at + timedelta(days=14))
        .astimezone(pytz.timezone(DEFAULTS.business_time_zone))
        .date()
    )
    if chinese:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day.strftime('%B')} {day.year}"


@pytest.fixture
def approved(staff_api, claim):
    result = staff_api.data(APPROVE, {"id": claim["id"]})["aftersalesRequestApprove"]
    assert result["errors"] == [], result
    return claim


def test_the_owner_downloads_an_english_slip_with_everything_on_it(
    customer_api, approved, order, warehouse
):
    url = slip_url(customer_api, approved["id"])
    response = download(url, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    number = approved["number"]
    assert response["Content-Disposition"] == f'inline; filename="{number}.pdf"'
    assert page_size(response.content).endswith(A4_SIZE + " (A4)")
    text = pdftotext(response.content)
    line = order.lines.order_by("pk")[0]
    assert text.count(number) >= 1
    assert f"Order #{order.pk}" in text
    assert "Items to send back" in text
    # The claimed line: product · variant, SKU and the 2 approved units.
    row = next(row for row in text.splitlines() if line.variant.sku in row)
    assert line.product_name in row and line.variant_name in row, row
    assert row.split()[-1] == "2", row
    # The warehouse the order was shipped from, as Saleor 2.10 has it.
    address = warehouse.address
    for part in (
        warehouse.company_name,
        "Ada Lovelace",
        address.street_address_1,
        f"{address.postal_code} {address.city}",
        "United Kingdom",
    ):
        assert part in text, (part, text)
    assert "Put this slip in the parcel." in text
    assert "Pack the items listed below" in text
    assert f"Send the parcel to the address above by {expected_deadline()}." in text


def test_approved_quantities_are_shown_not_requested_ones(
    staff_api, customer_api, claim, order
):
    line_id = claim["lines"][0]["id"]
    result = staff_api.data(
        APPROVE, {"id": claim["id"], "lines": [{"line": line_id, "quantity": 1}]}
    )["aftersalesRequestApprove"]
    assert result["errors"] == [], result
    text = pdftotext(download(slip_url(customer_api, claim["id"])).content)
    sku = order.lines.order_by("pk")[0].variant.sku
    row = next(row for row in text.splitlines() if sku in row)
    assert row.split()[-1] == "1", row


def test_a_chinese_slip_embeds_its_font_and_reads_back_in_chinese(
    customer_api, approved, order
):
    url = slip_url(customer_api, approved["id"], paper="LETTER")
    pdf = download(url + "?language=zh-hans").content
    assert page_size(pdf).endswith(LETTER_SIZE + " (letter)")
    text = pdftotext(pdf)
    assert "退货单" in text
    assert approved["number"] in text
    assert f"订单 #{order.pk}" in text
    assert "请将包裹寄往" in text and "需寄回的商品" in text
    assert "请将本退货单放入包裹内。" in text
    assert f"请于 {expected_deadline(chinese=True)} 前" in text
    assert "1 Analytical Way" in text
    fonts = subprocess.run(
        ["pdffonts", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    # WenQuanYi Zen Hei, embedded as a subset (emb sub uni: yes yes yes).
    cjk = next(row for row in fonts.splitlines() if "WenQuanYiZenHei" in row)
    assert cjk.split()[-5:-2] == ["yes", "yes", "yes"], fonts
    # The browser's language decides when the link names none.
    by_browser = download(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    assert "退货单" in pdftotext(by_browser.content)


def test_without_the_font_file_the_built_in_cid_font_is_used(
    settings, customer_api, approved
):
    settings.AFTERSALES_SLIP_CJK_FONT = "/nonexistent/font.ttc"
    url = slip_url(customer_api, approved["id"])
    pdf = download(url + "?language=zh-hans").content
    fonts = subprocess.run(
        ["pdffonts", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "STSong-Light" in fonts and "WenQuanYi" not in fonts, fonts
    assert "请将本退货单放入包裹内。" in pdftotext(pdf)


def test_staff_and_a_guest_with_the_order_token_get_the_slip(
    staff_api, anonymous_api, guest_order
):
    line = guest_order.lines.get()
    claim = create_return(
        anonymous_api, guest_order, [line_input(line, 1)], token=guest_order.token
    )["aftersalesRequest"]
    token = str(guest_order.token)
    assert slip_url(anonymous_api, claim["id"], token=token) is None  # not approved
    staff_api.data(APPROVE, {"id": claim["id"]})
    for url in (
        slip_url(anonymous_api, claim["id"], token=token),
        slip_url(staff_api, claim["id"], paper="A4"),
    ):
        text = pdftotext(download(url).content)
        assert claim["number"] in text and line.variant.sku in text


def test_strangers_get_no_link_and_bad_links_no_pdf(
    other_customer_api, anonymous_api, customer_api, staff_api, approved, guest_order
):
    assert_permission_denied(other_customer_api.post(SLIP, {"id": approved["id"]}))
    assert_permission_denied(
        anonymous_api.post(
            SLIP, {"id": approved["id"], "token": str(guest_order.token)}
        )
    )
    url = slip_url(customer_api, approved["id"])
    token = url.rstrip("/").rsplit("/", 1)[1]
    pk = AftersalesRequest.objects.get().pk
    other_salt = signing.TimestampSigner(salt="saleor-aftersales-photo")
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # tampered signature
        token.replace(f"{pk}:", f"{pk + 1}:", 1),  # another claim, same signature
        token.replace(":A4:", ":LETTER:", 1),  # another paper, same signature
        other_salt.sign(token.rsplit(":", 2)[0]),  # a photo link's signature
        str(pk),
    ]
    for bad in forged:
        response = Client().get(f"/aftersales/slips/{bad}/")
        assert response.status_code == 404, bad
        assert not response.content.startswith(b"%PDF")


def test_links_expire_and_end_when_the_goods_arrive(
    monkeypatch, staff_api, customer_api, approved
):
    url = slip_url(customer_api, approved["id"])
    assert Client().get(url).status_code == 200
    later = time.time() + slips.LINK_SECONDS + 5
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: later)
        response = Client().get(url)
        assert response.status_code == 404
        assert not response.content.startswith(b"%PDF")
    staff_api.data(RECEIVE, {"id": approved["id"]})
    assert Client().get(url).status_code == 404
    assert slip_url(customer_api, approved["id"]) is None


def test_repairs_and_returnless_refunds_have_no_slip(customer_api, approved):
    AftersalesRequest.objects.update(returnless=True)
    assert slip_url(customer_api, approved["id"]) is None
    AftersalesRequest.objects.update(returnless=False, type="repair")
    assert slip_url(customer_api, approved["id"]) is None


def test_long_claims_continue_on_further_pages():
    from datetime import datetime, timezone

    slip = slips.Slip(
        rma="RMA-000777",
        order_number="31",
        shop="shop.example.com",
        language=slips.EN,
        lines=tuple(
            slips.SlipLine(f"Tent {i}", "Green", f"TENT-{i:03d}", 1) for i in range(80)
        ),
        return_address=("Aftersales Ltd", "1 Analytical Way"),
        send_by=datetime(2025, 5, 1, 12, tzinfo=timezone.utc),
    )
    pdf = slips.render(slip, slips.LETTER)
    pages = pdftotext(pdf).split("\f")
    assert len([p for p in pages if p.strip()]) >= 2
    assert all(f"TENT-{i:03d}" in "".join(pages) for i in range(80))
    assert "RMA-000777" in pages[1]  # each page names the claim


DATA_CODEWORDS = {  # (version, error correction level bits) -> data codewords
    (1, 1): 19, (1, 0): 16, (1, 3): 13, (1, 2): 9,
    (2, 1): 34, (2, 0): 28, (2, 3): 22, (2, 2): 16,
}  # fmt: skip
MASKS = [
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
]
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _format_code(data: int) -> int:
    remainder = data
    for _ in range(10):
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
    return ((data << 10) | remainder) ^ 0x5412


def _function_modules(size: int):
    """Finders with separators and format areas, timing lines, the dark module and
    version 2's alignment pattern: everything that holds no data."""
    taken = [[False] * size for _ in range(size)]
    for y in range(size):
        for x in range(size):
            if (
                (x < 9 and y < 9)
                or (x >= size - 8 and y < 9)
                or (x < 9 and y >= size - 8)
                or x == 6
                or y == 6
                or (size == 25 and 16 <= x <= 20 and 16 <= y <= 20)
            ):
                taken[y][x] = True
    return taken


def read_qr(modules) -> str:
    size = len(modules)
    version = (size - 17) // 4
    assert size in (21, 25), size
    # Format: bits 0-5 down column 8, 6-8 around the corner, 9-14 along row 8.
    spots = [(8, i) for i in range(6)] + [(8, 7), (8, 8), (7, 8)]
    spots += [(14 - i, 8) for i in range(9, 15)]
    read = sum(int(modules[y][x]) << i for i, (x, y) in enumerate(spots))
    level_and_mask = next(d for d in range(32) if _format_code(d) == read)
    level, mask = level_and_mask >> 3, level_and_mask & 7
    taken = _function_modules(size)
    bits = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        for vertical in range(size):
            for j in range(2):
                x = right - j
                upward = ((right + 1) & 2) == 0
                y = size - 1 - vertical if upward else vertical
                if not taken[y][x]:
                    bits.append(int(modules[y][x]) ^ int(MASKS[mask](x, y)))
        right -= 2
    bits = bits[: DATA_CODEWORDS[version, level] * 8]

    position = 0

    def take(count):
        nonlocal position
        value = int("".join(map(str, bits[position : position + count])) or "0", 2)
        position += count
        return value

    text = ""
    while position + 4 <= len(bits):
        mode = take(4)
        if mode == 0:
            break
        if mode == 0b0100:  # bytes
            text += bytes(take(8) for _ in range(take(8))).decode()
        elif mode == 0b0010:  # alphanumeric, two characters in 11 bits
            count = take(9)
            for _ in range(count // 2):
                pair = take(11)
                text += ALPHANUMERIC[pair // 45] + ALPHANUMERIC[pair % 45]
            if count % 2:
                text += ALPHANUMERIC[take(6)]
        elif mode == 0b0001:  # digits, three in 10 bits
            count = take(10)
            while count >= 3:
                text += f"{take(10):03d}"
                count -= 3
            if count:
                text += f"{take(7 if count == 2 else 4):0{count}d}"
        else:
            raise AssertionError(f"Mode {mode:04b} isn't read here.")
    return text


def qr_modules_on_page(pdf: bytes, dpi: int = 300):
    """The dark/light modules of the QR code at the top right of the slip, sampled
    from the page poppler renders."""
    with tempfile.TemporaryDirectory() as folder:
        source, page = os.path.join(folder, "slip.pdf"), os.path.join(folder, "page")
        with open(source, "wb") as file:
            file.write(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", source, page],
            check=True,
        )
        image = Image.open(page + ".png").convert("L")
    width, height = image.size
    region = (width // 2, 0, width, height // 4)  # the QR code's corner only
    pixels = image.load()
    dark = [
        (x, y)
        for y in range(region[1], region[3])
        for x in range(region[0], region[2])
        if pixels[x, y] < 128
    ]
    left, right = min(x for x, _ in dark), max(x for x, _ in dark)
    top, bottom = min(y for _, y in dark), max(y for _, y in dark)
    # The top-left finder's outer ring is 7 modules wide.
    run = 0
    while pixels[left + run, top + 2] < 128:
        run += 1
    module = run / 7
    size = round((right - left + 1) / module)
    step_x = (right - left + 1) / size
    step_y = (bottom - top + 1) / size
    return [
        [
            pixels[int(left + (col + 0.5) * step_x), int(top + (row + 0.5) * step_y)]
            < 128
            for col in range(size)
        ]
        for row in range(size)
    ]


def test_the_printed_qr_code_reads_as_the_rma(customer_api, approved):
    for paper in ("A4", "LETTER"):
        pdf = download(slip_url(customer_api, approved["id"], paper=paper)).content
        assert read_qr(qr_modules_on_page(pdf)) == approved["number"]


def test_the_qr_reader_reads_what_reportlab_encodes():
    """The reader itself, on reportlab's own matrices of other texts and sizes
    (bytes and digits as well as the RMA's alphanumerics)."""
    for value in ("RMA-000001", "RMA-123456789", "rma-42", "12345678"):
        widget = slips.qr_widget(value)
        widget.draw()
        assert read_qr([list(map(bool, row)) for row in widget.qr.modules]) == value


def test_the_barcode_is_given_the_rma():
    """Only the value handed to reportlab's Code 128 is asserted here: no
    barcode reader is installed, and none is written for Code 128 (the QR code
    above is read back from the page)."""
    bars = slips.barcode("RMA-000042")
    assert bars.value == "RMA-000042"
