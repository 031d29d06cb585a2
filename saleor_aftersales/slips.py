"""The printable return slip of an approved claim: a PDF page (A4 or US letter)
the customer puts in the parcel, so the warehouse knows the claim at a glance.

It shows the RMA number as text, as a QR code and as a Code 128 barcode, the
order number, the lines and units to send, the return address of the warehouse
the goods go back to (``host.return_address``), and what to do by when, in
English or Simplified Chinese (a CJK font embedded, subset to the glyphs used).

``slip_for(request, language)`` gathers what a slip shows (``Slip``); ``render(slip,
paper)`` draws it. Links to it are signed and expire like photos' links (a link
can't carry a JWT): ``signed_url`` for a viewer who may see the claim,
``claim_for_token`` for the view that serves it.
"""

import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import List, Optional, Tuple

import pytz
from django.conf import settings as django_settings
from django.core import signing
from django.urls import reverse
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4 as A4_SIZE
from reportlab.lib.pagesizes import letter as LETTER_SIZE
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .configuration import get_settings
from .enums import RequestStatus, RequestType
from .models import AftersalesRequest
from .port import host
from .settings import AftersalesSettings

A4, LETTER = "A4", "LETTER"
PAPERS = {A4: A4_SIZE, LETTER: LETTER_SIZE}
EN, ZH_HANS = "en", "zh-hans"
LANGUAGES = (EN, ZH_HANS)
# Debian's fonts-wqy-zenhei (bin/bootstrap installs it); AFTERSALES_SLIP_CJK_FONT
# names another TrueType font or collection. Without the file, reportlab's
# built-in STSong-Light (a CID font the reader supplies, not embedded).
DEFAULT_CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
FALLBACK_CJK_FONT = "STSong-Light"
LATIN, LATIN_BOLD = "Helvetica", "Helvetica-Bold"
LINK_SECONDS = 3600
_SALT = "saleor-aftersales-return-slip"

TEXTS = {
    EN: {
        "title": "Return slip",
        "rma": "Return number (RMA)",
        "order": "Order",
        "send_to": "Send the parcel to",
        "lines": "Items to send back",
        "product": "Product",
        "sku": "SKU",
        "quantity": "Qty",
        "how": "How to return",
        "steps": (
            "Pack the items listed below securely, in their original packaging "
            "if you still have it.",
            "Put this slip in the parcel.",
            "Send the parcel to the address above by {deadline}.",
        ),
        "page": "Page {page}",
    },
    ZH_HANS: {
        "title": "退货单",
        "rma": "退货编号 (RMA)",
        "order": "订单",
        "send_to": "请将包裹寄往",
        "lines": "需寄回的商品",
        "product": "商品",
        "sku": "SKU",
        "quantity": "数量",
        "how": "退货步骤",
        "steps": (
            "请妥善包装下列商品，如有原包装请尽量使用原包装。",
            "请将本退货单放入包裹内。",
            "请于 {deadline} 前将包裹寄至上方地址。",
        ),
        "page": "第 {page} 页",
    },
}
MONTHS = (
    "January February March April May June July August September October "
    "November December"
).split()


@dataclass(frozen=True)
class SlipLine:
    product_name: str
    variant_name: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Slip:
    """What a return slip shows."""

    rma: str
    order_number: str
    shop: str
    language: str  # EN or ZH_HANS
    lines: Tuple[SlipLine, ...]
    return_address: Tuple[str, ...]
    # The goods are sent by then (tz-aware); shown as a date in business time.
    send_by: datetime
    time_zone: str = "UTC"

    @property
    def deadline_text(self) -> str:
        day = self.send_by.astimezone(pytz.timezone(self.time_zone)).date()
        if self.language == ZH_HANS:
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def language_of(value: Optional[str]) -> str:
    """EN or ZH_HANS from a language tag or an Accept-Language header: Chinese
    when it asks for Chinese first (zh, zh-Hans, zh-CN...), else English."""
    for tag in (value or "").split(","):
        tag = tag.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return ZH_HANS
        if tag:
            return EN
    return EN


def is_available(request: AftersalesRequest) -> bool:
    """Whether a slip helps now: a return or an exchange approved and waiting for
    its goods, which do come back (not a returnless refund). A repair's unit is
    handed in at the desk, which records its condition there."""
    return (
        request.type in (RequestType.RETURN, RequestType.EXCHANGE)
        and request.status == RequestStatus.APPROVED
        and not request.returnless
    )


def slip_for(
    request: AftersalesRequest,
    language: str = EN,
    *,
    settings: Optional[AftersalesSettings] = None,
) -> Slip:
    """The slip of ``request`` in ``language`` (a tag; EN unless Chinese): its
    approved units (requested ones while not approved yet), the return address
    the host names for its order lines, sent by the approval time (else now)
    plus the shop's days to send a return."""
    settings = settings or get_settings()
    claim_lines = list(request.lines.select_related("order_line").order_by("pk"))
    approved = request.approved_at is not None
    lines = tuple(
        SlipLine(
            product_name=line.order_line.product_name,
            variant_name=line.order_line.variant_name,
            sku=line.order_line.sku,
            quantity=line.quantity_approved if approved else line.quantity_requested,
        )
        for line in claim_lines
        if (line.quantity_approved if approved else line.quantity_requested)
    )
    address = host.return_address(line.order_line.host_id for line in claim_lines)
    start = request.approved_at or request.updated_at
    return Slip(
        rma=request.number,
        order_number=request.order.number,
        shop=host.shop_domain(),
        language=language_of(language),
        lines=lines,
        return_address=tuple(address),
        send_by=start + timedelta(days=settings.return_send_days),
        time_zone=settings.business_time_zone,
    )


# Fonts --------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _registered_cjk_font(path: str) -> str:
    """The registered name of the CJK font: the TrueType file at ``path`` (first
    font of a collection), embedded as a subset; else the built-in CID font."""
    if path and os.path.isfile(path):
        name = "AftersalesCJK-" + os.path.basename(path).split(".")[0]
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        return name
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CJK_FONT))
    return FALLBACK_CJK_FONT


def cjk_font() -> str:
    path = getattr(django_settings, "AFTERSALES_SLIP_CJK_FONT", DEFAULT_CJK_FONT)
    return _registered_cjk_font(path or "")


def _latin(text: str) -> bool:
    try:
        text.encode("cp1252")  # Helvetica's encoding in reportlab
    except UnicodeEncodeError:
        return False
    return True


# Drawing --------------------------------------------------------------------------


class _Page:
    """A canvas with a cursor running down the page, and fonts picked per text:
    Helvetica for Latin text on English slips, the CJK font otherwise."""

    MARGIN = 48

    def __init__(self, slip: Slip, size):
        self.slip = slip
        self.width, self.height = size
        self.buffer = io.BytesIO()
        self.canvas = canvas.Canvas(self.buffer, pagesize=size, pageCompression=1)
        self.canvas.setTitle(f"{slip.rma} {TEXTS[slip.language]['title']}")
        self.canvas.setAuthor(slip.shop)
        self.canvas.setSubject(slip.rma)
        self.page = 1
        self.y = self.height - self.MARGIN

    def font(self, text: str, bold: bool = False) -> str:
        if self.slip.language == EN and _latin(text):
            return LATIN_BOLD if bold else LATIN
        return cjk_font()

    def text(self, x: float, text: str, size: float = 10, bold: bool = False):
        self.canvas.setFont(self.font(text, bold), size)
        self.canvas.drawString(x, self.y, text)

    def wrapped(self, x: float, text: str, width: float, size: float = 10) -> List[str]:
        return simpleSplit(text, self.font(text), size, width) or [""]

    def down(self, points: float, keep: float = 0):
        """Move the cursor down; a new page when ``keep`` more points don't fit."""
        self.y -= points
        if self.y - keep < self.MARGIN:
            self.new_page()

    def new_page(self):
        self.footer()
        self.canvas.showPage()
        self.page += 1
        self.y = self.height - self.MARGIN
        self.text(self.MARGIN, f"{self.slip.rma} · #{self.slip.order_number}", 10)
        self.y -= 24

    def footer(self):
        words = TEXTS[self.slip.language]
        y, self.y = self.y, self.MARGIN / 2
        self.text(self.MARGIN, words["page"].format(page=self.page), 8)
        self.y = y

    def finish(self) -> bytes:
        self.footer()
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def qr_widget(value: str) -> QrCodeWidget:
    """The QR code of ``value`` as drawn on the slip (level M, no quiet zone
    added: the page's white margin serves)."""
    return QrCodeWidget(value, barLevel="M", barBorder=0)


def barcode(value: str) -> code128.Code128:
    return code128.Code128(value, barHeight=36, barWidth=1.1, quiet=False)


def _draw_qr(page: _Page, value: str, x: float, y: float, side: float):
    widget = qr_widget(value)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        side,
        side,
        transform=[side / (right - left), 0, 0, side / (top - bottom), 0, 0],
    )
    drawing.add(widget)
    renderPDF.draw(drawing, page.canvas, x, y)


def render(slip: Slip, paper: str = A4) -> bytes:
    """The slip as a PDF on ``paper`` (A4 or LETTER)."""
    page = _Page(slip, PAPERS[paper])
    words = TEXTS[slip.language]
    margin, width = page.MARGIN, page.width - 2 * page.MARGIN
    qr_side = 110

    # Header: the shop, the title, the RMA big, its barcode; the QR code right.
    page.text(margin, slip.shop, 9)
    _draw_qr(page, slip.rma, page.width - margin - qr_side, page.y - qr_side, qr_side)
    page.down(26)
    page.text(margin, words["title"], 20, bold=True)
    page.down(22)
    page.text(margin, words["rma"], 9)
    page.down(22)
    page.text(margin, slip.rma, 20, bold=True)
    bars = barcode(slip.rma)
    page.down(bars.barHeight + 10)
    bars.drawOn(page.canvas, margin, page.y)
    page.down(22)
    page.text(margin, f"{words['order']} #{slip.order_number}", 12, bold=True)
    page.down(30)

    # Where to.
    page.text(margin, words["send_to"], 11, bold=True)
    for line in slip.return_address:
        page.down(15)
        page.text(margin + 12, line, 11)
    page.down(30)

    # What to do.
    page.text(margin, words["how"], 11, bold=True)
    for number, step in enumerate(words["steps"], 1):
        step = step.format(deadline=slip.deadline_text)
        for index, part in enumerate(page.wrapped(margin, step, width - 24)):
            page.down(15)
            if index == 0:
                page.text(margin, f"{number}.", 10)
            page.text(margin + 18, part, 10)
    page.down(30, keep=40)

    # The lines: product (and variant), SKU, units.
    sku_x = margin + width * 0.62
    quantity_x = margin + width - 30
    page.text(margin, words["lines"], 11, bold=True)
    page.down(18)
    page.text(margin, words["product"], 9, bold=True)
    page.text(sku_x, words["sku"], 9, bold=True)
    page.text(quantity_x, words["quantity"], 9, bold=True)
    page.canvas.line(margin, page.y - 4, margin + width, page.y - 4)
    for line in slip.lines:
        name = line.product_name
        if line.variant_name:
            name = f"{name} · {line.variant_name}"
        names = page.wrapped(margin, name, sku_x - margin - 10)
        page.down(16, keep=14 * len(names))
        page.text(sku_x, line.sku, 10)
        page.text(quantity_x, str(line.quantity), 10)
        for index, part in enumerate(names):
            if index:
                page.down(13)
            page.text(margin, part, 10)
    return page.finish()


# Links ----------------------------------------------------------------------------


def _stamp(request: AftersalesRequest) -> str:
    """The claim's creation time in microseconds: with its id, names one claim
    even where several shops' claims share ids (the Saleor 3.23 app)."""
    return str(int(request.created_at.timestamp() * 1_000_000))


def signed_url(request: AftersalesRequest, paper: str = A4) -> str:
    """A link to the slip, valid for LINK_SECONDS. The page adds
    ``?language=zh-hans`` for Chinese; the download's Accept-Language decides
    otherwise."""
    value = f"{request.pk}:{_stamp(request)}:{paper}"
    token = signing.TimestampSigner(salt=_SALT).sign(value)
    return reverse("aftersales-return-slip", kwargs={"token": token})


def claim_for_token(token: str) -> Optional[Tuple[AftersalesRequest, str]]:
    """(claim, paper) a signed link names while its slip is available, or None."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=LINK_SECONDS)
    except signing.BadSignature:
        return None
    pk, stamp, paper = (value.split(":") + ["", "", ""])[:3]
    if not pk.isdigit() or paper not in PAPERS:
        return None
    request = (
        AftersalesRequest.objects.select_related("order").filter(pk=int(pk)).first()
    )
    if request is None or _stamp(request) != stamp or not is_available(request):
        return None
    return request, paper
