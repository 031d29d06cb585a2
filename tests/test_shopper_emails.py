"""What shoppers read: every step's e-mail, in English and Simplified Chinese,
driven through /graphql/ as the storefront and the desk do, and read back from
Django's outbox after the step's transaction committed."""

import html as html_lib
import re
from datetime import timedelta
from decimal import Decimal
from typing import List, NamedTuple

import graphene
import pytest
import pytz
from django.core import mail
from django.template.loader import get_template
from saleor.giftcard.models import GiftCard
from saleor.order.models import Order

from demo import shop
from saleor_aftersales import order_links, policies, tasks
from saleor_aftersales import settings as aftersales_settings
from saleor_aftersales.emails import kinds
from saleor_aftersales.enums import EventType
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import (
    AftersalesEvent,
    AftersalesRequest,
    CustomerEmail,
    WarrantyCard,
)

from .conftest import configure, create_return, gid, line_input
from .queries import (
    APPEAL,
    APPROVE,
    CLOSE,
    PROVIDE_INFO,
    QUOTE_CREATE,
    QUOTE_RESPOND,
    RECEIVE,
    RECEIVE_REPAIR,
    REFUND,
    REJECT,
    REPAIR_REQUEST_CREATE,
    REPAIR_UPDATE,
    REQUEST_INFO,
)

# The outbox is written in the step's transaction and sent on its commit: the
# tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LANGUAGES = ("en", "zh-hans")
# The desk's time zone per language of the tests: dates are shown in it.
DESK_ZONE = {"en": "Europe/Berlin", "zh-hans": "Asia/Shanghai"}
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

PARTS_AND_LABOUR = [
    {"kind": "PART", "description": "Brake pads", "quantity": 2, "unitPrice": "15.00"},
    {
        "kind": "LABOR",
        "description": "Fitting, 1 hour",
        "quantity": 1,
        "unitPrice": "40.00",
    },
]


class Sent(NamedTuple):
    row: CustomerEmail
    subject: str
    text: str
    html: str
    message: object

    @property
    def visible(self) -> str:
        """The HTML part as a reader sees it: tags gone, entities read."""
        return visible(self.html)


def visible(markup: str) -> str:
    inline = re.sub(r"</?(strong|b|em|a|span)\b[^>]*>", "", markup)
    without_tags = re.sub(r"<[^>]+>", " ", inline)
    return " ".join(html_lib.unescape(without_tags).split())


def table_rows(markup: str) -> List[List[str]]:
    """Each row of the HTML part's tables as the texts of its cells."""
    return [
        [visible(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", markup, re.S)
    ]


def ours():
    """The shopper e-mails in Django's outbox (Saleor's own aren't of interest)."""
    return [m for m in mail.outbox if m.extra_headers.get("Auto-Submitted") is not None]


def pk_of(claim) -> int:
    return int(graphene.Node.from_global_id(claim["id"])[1])


def every_sent(claim, kind) -> List[Sent]:
    """The claim's e-mails of ``kind``, each sent once, in one attempt."""
    found = []
    for row in CustomerEmail.objects.filter(request_id=pk_of(claim), kind=kind):
        assert row.status == CustomerEmail.SENT, (row.status, row.last_error)
        assert row.attempts == 1 and row.attempt_log.count() == 1
        assert row.message_id
        matching = [m for m in ours() if m.message()["Message-ID"] == row.message_id]
        assert len(matching) == 1, f"{kind}: {len(matching)} messages"
        message = matching[0]
        assert message.to == [row.to_email]
        assert message.subject == row.subject
        ((html, mimetype),) = message.alternatives
        assert mimetype == "text/html"
        found.append(Sent(row, message.subject, message.body, html, message))
    return found


def sent(claim, kind) -> Sent:
    found = every_sent(claim, kind)
    assert len(found) == 1, f"{len(found)} e-mails of kind {kind}"
    return found[0]


def kinds_of(claim) -> List[str]:
    return list(
        CustomerEmail.objects.filter(request_id=pk_of(claim)).values_list(
            "kind", flat=True
        )
    )


def shop_speaks(language):
    configure(
        **{
            "Shopper e-mail language": language,
            "Business time zone": DESK_ZONE[language],
        }
    )


def speak(claim, language):
    """The claim's language, as the storefront will set it (the create input
    doesn't take one yet)."""
    AftersalesRequest.objects.filter(pk=pk_of(claim)).update(language=language)


def desk_time(moment, language):
    return moment.astimezone(pytz.timezone(DESK_ZONE[language]))


def day(moment, language) -> str:
    """A date as the e-mails write it, in the desk's time zone."""
    local = desk_time(moment, language)
    if language == "en":
        return f"{local.day} {local.strftime('%B')} {local.year}"
    return f"{local.year}年{local.month}月{local.day}日"


def day_and_time(moment, language) -> str:
    local = desk_time(moment, language)
    sep = ", " if language == "en" else " "
    return f"{day(moment, language)}{sep}{local.strftime('%H:%M')}"


def item_line(line, quantity, language) -> str:
    """One line of a plain-text list of items."""
    name, variant, sku = line.product_name, line.variant_name, line.product_sku
    if language == "en":
        return f"- {quantity} x {name} ({variant}), SKU {sku}"
    return f"- {name}（{variant}），SKU {sku} × {quantity}"


def item_row(line, quantity) -> List[str]:
    """The same line as a row of the HTML part's table."""
    return [
        f"{line.product_name} ({line.variant_name})",
        line.product_sku,
        str(quantity),
    ]


def assert_everywhere(mail_, *facts):
    for fact in facts:
        assert fact in mail_.text, fact
        assert fact in mail_.visible, fact


def assert_nowhere(mail_, *facts):
    for fact in facts:
        assert fact not in mail_.subject, fact
        assert fact not in mail_.text, fact
        assert fact not in mail_.visible, fact


def assert_common(mail_, claim, order, language):
    rma = claim["number"]
    assert rma in mail_.subject and f"#{order.pk}" in mail_.subject
    assert_everywhere(mail_, rma, f"#{order.pk}")
    assert mail_.message.extra_headers["Content-Language"] == language
    assert mail_.row.language in (language, "")
    assert "{{" not in mail_.text + mail_.html + mail_.subject
    assert "{%" not in mail_.text + mail_.html + mail_.subject
    assert "\n\n\n" not in mail_.text  # one blank line between paragraphs


def assert_links_to(mail_, url):
    assert url in mail_.text
    assert f'href="{html_lib.escape(url)}"' in mail_.html


def assert_sent_once_each(claims):
    """Running every message's task again, and the sweeper, sends nothing more."""
    before = len(ours())
    rows = CustomerEmail.objects.filter(request_id__in=[pk_of(c) for c in claims])
    for row in rows:
        tasks.send_customer_email(row.pk)
    tasks.send_due_customer_emails()
    assert len(ours()) == before
    assert all(row.attempts == 1 for row in rows.all())


def say(language, en, zh):
    return en if language == "en" else zh


# The whole return: every step its one e-mail.


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_return_mails_each_step_once_with_its_facts(
    language, customer_api, staff_api, order, warehouse
):
    shop_speaks(language)
    first, second = order.lines.order_by("pk")
    claim = create_return(
        customer_api, order, [line_input(first, 2), line_input(second, 1)]
    )["aftersalesRequest"]
    speak(claim, language)
    portal = order_links.portal_url()

    received = sent(claim, kinds.RECEIVED)
    assert_common(received, claim, order, language)
    assert item_line(first, 2, language) in received.text
    assert item_line(second, 1, language) in received.text
    rows = table_rows(received.html)
    assert item_row(first, 2) in rows and item_row(second, 1) in rows

    # The desk asks; the customer's answer sends nothing.
    question = "Is the sole coming off at the toe?\nA photo would help."
    staff_api.data(REQUEST_INFO, {"id": claim["id"], "note": question})
    asked = sent(claim, kinds.INFO_REQUESTED)
    assert_common(asked, claim, order, language)
    assert question in asked.text
    assert "Is the sole coming off at the toe?<br>A photo would help." in asked.html
    assert_links_to(asked, portal)
    assert say(language, "more information", "补充") in asked.subject
    answered = customer_api.data(
        PROVIDE_INFO, {"id": claim["id"], "note": "Yes, see the photo"}
    )["aftersalesRequestProvideInfo"]
    assert answered["errors"] == []
    assert len(ours()) == 2

    # Approved in part: the first line's two pairs come back, the second stays.
    approved = staff_api.data(
        APPROVE,
        {
            "id": claim["id"],
            "lines": [
                {"line": claim["lines"][0]["id"], "quantity": 2},
                {"line": claim["lines"][1]["id"], "quantity": 0},
            ],
            "note": "Please put the shoes in their box.",
        },
    )["aftersalesRequestApprove"]
    assert approved["errors"] == []
    approval = sent(claim, kinds.APPROVED)
    assert_common(approval, claim, order, language)
    approved_at = AftersalesRequest.objects.get(pk=pk_of(claim)).approved_at
    send_by = day(approved_at + timedelta(days=14), language)
    assert_everywhere(approval, send_by, "Please put the shoes in their box.")
    assert item_line(first, 2, language) in approval.text
    assert item_row(first, 2) in table_rows(approval.html)
    assert not [row for row in table_rows(approval.html) if second.product_sku in row]
    not_approved = say(language, "Not approved: ", "未通过审核：")
    expected = say(
        language,
        f"{not_approved}{second.product_name} ({second.variant_name})",
        f"{not_approved}{second.product_name}（{second.variant_name}）",
    )
    assert_everywhere(approval, expected)
    assert_everywhere(
        approval,
        say(language, f"by {send_by}", f"请于 {send_by} 前寄出包裹"),
        say(language, "Pack them securely", "请妥善包装商品"),
    )
    # The slip goes in the parcel, the parcel to the return warehouse.
    ((name, data, mimetype),) = approval.message.attachments
    assert (name, mimetype) == (f"{claim['number']}.pdf", "application/pdf")
    assert data.startswith(b"%PDF")
    assert_everywhere(
        approval,
        say(language, "Print the return slip attached", "请打印本邮件附带的退货单"),
    )
    address = warehouse.address
    assert address.street_address_1 and address.city
    assert f"   {address.street_address_1}\n" in approval.text
    assert f"<br>{address.street_address_1}<br>" in approval.html
    assert_nowhere(approval, say(language, "gives you on your request", "向售后服务台索取"))
    # Approving again is refused and mails nothing.
    again = staff_api.data(APPROVE, {"id": claim["id"]})["aftersalesRequestApprove"]
    assert again["errors"]
    assert len(ours()) == 3

    staff_api.data(RECEIVE, {"id": claim["id"]})
    arrived = sent(claim, kinds.GOODS_RECEIVED)
    assert_common(arrived, claim, order, language)
    assert item_line(first, 2, language) in arrived.text
    assert item_row(first, 2) in table_rows(arrived.html)
    assert_nowhere(arrived, second.product_sku)
    assert_everywhere(arrived, say(language, "refund", "退款"))

    refunded = staff_api.data(REFUND, {"id": claim["id"], "key": "refund-1"})[
        "aftersalesRequestRefund"
    ]
    assert refunded["refund"]["status"] == "SUCCESS"
    # Asked again with its key: the same refund, and no second e-mail.
    retried = staff_api.data(REFUND, {"id": claim["id"], "key": "refund-1"})[
        "aftersalesRequestRefund"
    ]
    assert retried["refund"]["id"] == refunded["refund"]["id"]
    money = sent(claim, kinds.REFUNDED)
    assert_common(money, claim, order, language)
    assert "50.00 USD" in money.subject
    assert_everywhere(
        money, "50.00 USD", say(language, "original payment method", "原路退回")
    )
    assert_nowhere(money, say(language, "gift card", "礼品卡"))

    closed = staff_api.data(
        CLOSE, {"id": claim["id"], "note": "Thank you for shopping with us."}
    )["aftersalesRequestClose"]
    assert closed["errors"] == []
    done = sent(claim, kinds.CLOSED)
    assert_common(done, claim, order, language)
    assert_everywhere(
        done,
        "Thank you for shopping with us.",
        say(language, "How did we do?", "欢迎为本次服务评分"),
    )
    assert_links_to(done, portal)
    assert say(language, "Rate our service", "为服务评分") in done.visible

    assert kinds_of(claim) == [
        kinds.RECEIVED,
        kinds.INFO_REQUESTED,
        kinds.APPROVED,
        kinds.GOODS_RECEIVED,
        kinds.REFUNDED,
        kinds.CLOSED,
    ]
    assert len(ours()) == 6
    assert_sent_once_each([claim])


@pytest.mark.parametrize("language", LANGUAGES)
def test_store_credit_mail_alone_carries_the_whole_gift_card_code(
    language, customer_api, staff_api, order
):
    shop_speaks(language)
    configure(
        **{
            "Shopper e-mail language": language,
            "Business time zone": DESK_ZONE[language],
            "Store credit bonus percent": "10",
        }
    )
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])[
        "aftersalesRequest"
    ]
    speak(claim, language)
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    result = staff_api.data(REFUND, {"id": claim["id"], "method": "STORE_CREDIT"})[
        "aftersalesRequestRefund"
    ]
    assert result["refund"]["status"] == "SUCCESS"
    code = GiftCard.objects.get().code

    credit = sent(claim, kinds.REFUNDED)
    assert_common(credit, claim, order, language)
    assert_everywhere(credit, code, "50.00 USD", "55.00 USD")
    assert "55.00 USD" in credit.subject and code not in credit.subject
    assert say(language, "store credit", "店铺购物金") in credit.subject
    assert_nowhere(credit, say(language, "original payment", "原路退回"))

    staff_api.data(CLOSE, {"id": claim["id"]})
    others = [
        sent(claim, kind)
        for kind in (kinds.RECEIVED, kinds.APPROVED, kinds.GOODS_RECEIVED, kinds.CLOSED)
    ]
    for other in others:
        assert_nowhere(other, code)
        assert code not in other.html
    assert len(ours()) == 5


REASONS = {
    "OUTSIDE_WINDOW": ("Outside the return window", "超出售后期限"),
    "NOT_ELIGIBLE": ("Not eligible", "不符合售后条件"),
    "FINAL_SALE": ("Final sale", "特价商品，不支持退换"),
    "NO_DEFECT_FOUND": ("No defect found", "经检测，商品无质量问题"),
    "OTHER": ("Other", "其他原因"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_rejection_says_why_and_until_when_to_appeal(
    language, customer, staff_user, warehouse, variants, customer_api, staff_api
):
    shop_speaks(language)
    order = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variants[0], len(REASONS))]
    )
    line = order.lines.get()
    claims = []
    for reason, (label_en, label_zh) in REASONS.items():
        claim = create_return(customer_api, order, [line_input(line, 1)])[
            "aftersalesRequest"
        ]
        speak(claim, language)
        note = f"{HOSTILE} Worn outdoors: {reason.lower()}"
        rejected = staff_api.data(
            REJECT, {"id": claim["id"], "reason": reason, "note": note}
        )["aftersalesRequestReject"]
        assert rejected["errors"] == [] and rejected["aftersalesRequest"]["canAppeal"]
        mail_ = sent(claim, kinds.REJECTED)
        assert_common(mail_, claim, order, language)
        label = say(language, label_en, label_zh)
        assert_everywhere(mail_, label, f"Worn outdoors: {reason.lower()}")
        # The desk's note is the desk's text, never markup.
        assert note in mail_.text
        assert ESCAPED in mail_.html and "<script" not in mail_.html
        rejected_at = (
            AftersalesEvent.objects.filter(
                request_id=pk_of(claim), type=EventType.REJECTED
            )
            .get()
            .created_at
        )
        until = day_and_time(rejected_at + timedelta(days=14), language)
        assert_everywhere(mail_, until, say(language, "appeal", "申诉"))
        assert_links_to(mail_, order_links.portal_url())
        claims.append(claim)
    # The other reasons' words aren't in another reason's e-mail.
    last = sent(claims[-1], kinds.REJECTED)
    for label_en, label_zh in list(REASONS.values())[:-1]:
        assert say(language, label_en, label_zh) not in last.text

    # Appealed and rejected again: the second e-mail is final, with no deadline.
    claim = claims[0]
    appealed = customer_api.data(
        APPEAL, {"id": claim["id"], "note": "It was a gift, never worn"}
    )["aftersalesRequestAppeal"]
    assert appealed["errors"] == []
    # Each claim's receipt and rejection; an appeal mails nobody.
    assert len(ours()) == 2 * len(REASONS)
    staff_api.data(REJECT, {"id": claim["id"], "reason": "NOT_ELIGIBLE"})
    first_rejection, final = every_sent(claim, kinds.REJECTED)
    assert final.row.pk > first_rejection.row.pk
    assert_common(final, claim, order, language)
    assert_everywhere(
        final,
        say(language, "Not eligible", "不符合售后条件"),
        say(language, "is final", "最终处理结果"),
    )
    assert_nowhere(final, say(language, "you can appeal", "提出申诉"))
    assert say(language, "until", "前") not in final.text.split("\n\n", 2)[2]
    assert len(ours()) == len(REASONS) * 2 + 1
    assert_sent_once_each(claims)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_returnless_approval_says_keep_the_goods(
    language, customer_api, staff_api, order, variants
):
    shop_speaks(language)
    policies.save_policy(
        host.ref(variants[0].product.product_type_id),
        {"returnless_refund_below": Decimal("30")},
    )
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 1)])[
        "aftersalesRequest"
    ]
    speak(claim, language)
    staff_api.data(APPROVE, {"id": claim["id"]})

    approval = sent(claim, kinds.APPROVED)
    assert_common(approval, claim, order, language)
    assert_everywhere(
        approval,
        say(language, "please keep the items", "请您自行保留"),
        say(language, "Your refund follows", "退款将很快为您办理"),
    )
    assert item_line(first, 1, language) in approval.text
    assert approval.message.attachments == []
    assert_nowhere(
        approval,
        say(language, "Pack them", "包装"),
        say(language, "send the items back", "寄回方式"),
    )
    money = sent(claim, kinds.REFUNDED)
    assert_everywhere(money, "25.00 USD")
    assert kinds_of(claim) == [kinds.RECEIVED, kinds.APPROVED, kinds.REFUNDED]
    assert len(ours()) == 3


# Repairs: the quote and the hand-back.


def book_repair(api, order, card=None):
    line = order.lines.order_by("pk")[0]
    data = {
        "order": gid("Order", order.pk),
        "lines": [
            {
                "orderLine": gid("OrderLine", line.pk),
                "quantity": 1,
                "reason": "DEFECTIVE",
                "comment": "Squeaks when braking",
                "serialNumber": "VIN123",
            }
        ],
    }
    if card:
        data["warrantyCardCode"] = card
    result = api.data(REPAIR_REQUEST_CREATE, {"input": data})["repairRequestCreate"]
    assert result["errors"] == [], result
    return result["aftersalesRequest"]


def repair_received(staff_api, claim):
    received = staff_api.data(
        RECEIVE_REPAIR,
        {"id": claim["id"], "condition": "Scratched housing", "accessories": "Charger"},
    )["aftersalesRequestReceive"]
    assert received["errors"] == [], received


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_paid_repair_mails_its_quote_and_the_tracking_number(
    language, customer_api, staff_api, order
):
    shop_speaks(language)
    claim = book_repair(customer_api, order)
    speak(claim, language)
    first = order.lines.order_by("pk")[0]
    assert sent(claim, kinds.RECEIVED)

    how = "Please bring the bike to our Pudong service desk."
    staff_api.data(APPROVE, {"id": claim["id"], "note": how})
    approval = sent(claim, kinds.APPROVED)
    assert_common(approval, claim, order, language)
    assert_everywhere(
        approval,
        how,
        say(language, "bring the item to our service desk", "送至我们的服务点"),
    )
    assert_nowhere(approval, say(language, "Pack them", "寄回方式"))
    assert approval.message.attachments == []

    repair_received(staff_api, claim)
    arrived = sent(claim, kinds.GOODS_RECEIVED)
    assert_common(arrived, claim, order, language)
    assert item_line(first, 1, language) in arrived.text
    assert_everywhere(
        arrived, "Scratched housing", "Charger", say(language, "quote", "报价")
    )

    staff_api.data(
        QUOTE_CREATE,
        {"id": claim["id"], "lines": PARTS_AND_LABOUR, "diagnosis": "Worn pads"},
    )
    quote = sent(claim, kinds.QUOTE_READY)
    assert_common(quote, claim, order, language)
    assert "70.00 USD" in quote.subject
    assert_everywhere(quote, "Worn pads", "70.00 USD")
    assert (
        say(
            language,
            "- 2 x Brake pads at 15.00 USD = 30.00 USD",
            "- Brake pads × 2，单价 15.00 USD，小计 30.00 USD",
        )
        in quote.text
    )
    rows = table_rows(quote.html)
    assert ["Brake pads", "2", "15.00 USD", "30.00 USD"] in rows
    assert ["Fitting, 1 hour", "1", "40.00 USD", "40.00 USD"] in rows
    assert [say(language, "Total", "合计"), "70.00 USD"] in rows
    assert_links_to(quote, order_links.portal_url())
    assert say(language, "Accept or decline", "确认报价") in quote.visible

    accepted = customer_api.data(QUOTE_RESPOND, {"id": claim["id"], "accept": True})[
        "repairQuoteRespond"
    ]["aftersalesRequest"]
    shop.pay_with_dummy(
        Order.objects.get(
            pk=graphene.Node.from_global_id(accepted["quote"]["order"]["id"])[1]
        )
    )
    staff_api.data(
        REPAIR_UPDATE, {"id": claim["id"], "status": "IN_REPAIR", "note": "Pads fitted"}
    )
    assert len(ours()) == 4  # accepting and progress notes mail nobody
    finished = staff_api.data(
        REPAIR_UPDATE,
        {
            "id": claim["id"],
            "status": "RESOLVED",
            "note": "Test ride: quiet.",
            "handBack": "SHIPMENT",
            "tracking": "1Z999AA10123456784",
        },
    )["repairStatusUpdate"]
    assert finished["errors"] == []
    back = sent(claim, kinds.REPAIR_FINISHED)
    assert_common(back, claim, order, language)
    assert_everywhere(
        back,
        "1Z999AA10123456784",
        "Test ride: quiet.",
        say(language, "shipped it back", "已寄回"),
    )
    assert say(language, "on its way back", "商品已寄回") in back.subject
    assert_nowhere(back, say(language, "pickup", "取件"))

    staff_api.data(CLOSE, {"id": claim["id"]})
    assert kinds_of(claim) == [
        kinds.RECEIVED,
        kinds.APPROVED,
        kinds.GOODS_RECEIVED,
        kinds.QUOTE_READY,
        kinds.REPAIR_FINISHED,
        kinds.CLOSED,
    ]
    assert len(ours()) == 6
    assert_sent_once_each([claim])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_warranty_repair_costs_nothing_and_waits_for_pickup(
    language, customer_api, staff_api, order
):
    shop_speaks(language)
    first = order.lines.order_by("pk")[0]
    card = (
        WarrantyCard.objects.filter(order_line__host_id=host.ref(first.pk))
        .order_by("pk")
        .first()
    )
    claim = book_repair(customer_api, order, card=card.code)
    speak(claim, language)
    staff_api.data(APPROVE, {"id": claim["id"]})
    repair_received(staff_api, claim)
    staff_api.data(QUOTE_CREATE, {"id": claim["id"], "lines": PARTS_AND_LABOUR[:1]})

    quote = sent(claim, kinds.QUOTE_READY)
    assert_common(quote, claim, order, language)
    assert say(language, "covered by warranty", "保修范围内") in quote.subject
    assert_everywhere(
        quote,
        "Brake pads",
        say(language, "covered by warranty", "在保修范围内"),
        say(language, "nothing to pay", "无需支付任何费用"),
    )
    assert_nowhere(
        quote, "15.00 USD", "0.00 USD", say(language, "Accept or decline", "确认报价")
    )
    assert ["Brake pads", "2"] in table_rows(quote.html)
    assert_links_to(quote, order_links.portal_url())

    staff_api.data(
        REPAIR_UPDATE,
        {
            "id": claim["id"],
            "status": "RESOLVED",
            "note": "Fixed",
            "handBack": "PICKUP",
        },
    )
    back = sent(claim, kinds.REPAIR_FINISHED)
    assert_common(back, claim, order, language)
    assert say(language, "ready for pickup", "可到店取件") in back.subject
    assert_everywhere(
        back,
        say(language, "ready for pickup", "可在服务点领取"),
        claim["number"],
    )
    assert_nowhere(back, say(language, "Tracking number", "快递单号"))


# Switched off, escaped, and in whose language.


def test_kinds_the_desk_switched_off_are_recorded_skipped_and_not_sent(
    customer_api, staff_api, order
):
    configure(**{"Shopper e-mails switched off": "received, goods_received"})
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})

    rows = {
        row.kind: row for row in CustomerEmail.objects.filter(request_id=pk_of(claim))
    }
    assert set(rows) == {kinds.RECEIVED, kinds.APPROVED, kinds.GOODS_RECEIVED}
    for kind in (kinds.RECEIVED, kinds.GOODS_RECEIVED):
        row = rows[kind]
        assert (row.status, row.attempts, row.sent_at) == (
            CustomerEmail.SKIPPED,
            1,
            None,
        )
        assert not [m for m in ours() if m.message()["Message-ID"] == row.message_id]
    assert sent(claim, kinds.APPROVED)
    assert len(ours()) == 1
    # Nothing sends them later either.
    assert_sent_once_each([claim])
    assert len(ours()) == 1


def test_hostile_product_names_and_notes_are_text_in_the_html_part(
    customer, staff_user, warehouse, customer_api, staff_api
):
    variant = shop.make_variants(1, warehouse, price=Decimal("25.00"))[0]
    hostile_name = f'{HOSTILE} Boots & "Co"'
    variant.product.name = hostile_name
    variant.product.save(update_fields=["name"])
    order = shop.fulfilled_paid_order(customer, staff_user, warehouse, [(variant, 1)])
    line = order.lines.get()
    assert line.product_name == hostile_name
    claim = create_return(customer_api, order, [line_input(line, 1, comment=HOSTILE)])[
        "aftersalesRequest"
    ]
    staff_api.data(
        REQUEST_INFO, {"id": claim["id"], "note": f"<b>Which</b> size? {HOSTILE}"}
    )
    customer_api.data(PROVIDE_INFO, {"id": claim["id"], "note": "42"})
    staff_api.data(APPROVE, {"id": claim["id"], "note": "<img src=x onerror=alert(2)>"})

    for kind in (kinds.RECEIVED, kinds.INFO_REQUESTED, kinds.APPROVED):
        mail_ = sent(claim, kind)
        assert "<script" not in mail_.html, kind
        assert "<img" not in mail_.html and "<b>" not in mail_.html, kind
    for kind in (kinds.RECEIVED, kinds.APPROVED):
        mail_ = sent(claim, kind)
        assert f"{ESCAPED} Boots &amp; &quot;Co&quot;" in mail_.html
        # The plain text is plain: the name as it is.
        assert hostile_name in mail_.text
    asked = sent(claim, kinds.INFO_REQUESTED)
    assert f"&lt;b&gt;Which&lt;/b&gt; size? {ESCAPED}" in asked.html
    assert f"<b>Which</b> size? {HOSTILE}" in asked.text
    approval = sent(claim, kinds.APPROVED)
    assert "&lt;img src=x onerror=alert(2)&gt;" in approval.html


def test_the_claims_language_wins_over_the_shops(customer_api, staff_api, order):
    configure(**{"Shopper e-mail language": "zh-hans"})
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])[
        "aftersalesRequest"
    ]
    # Written before the claim had a language: the shop's.
    received = sent(claim, kinds.RECEIVED)
    assert "我们已收到您的退货申请" in received.subject
    assert received.message.extra_headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-Hans">' in received.html
    speak(claim, "en")
    staff_api.data(APPROVE, {"id": claim["id"]})
    approval = sent(claim, kinds.APPROVED)
    assert approval.row.language == "en"
    assert "your return request is approved" in approval.subject
    assert approval.message.extra_headers["Content-Language"] == "en"
    assert '<html lang="en">' in approval.html


def test_a_guests_mails_sign_in_to_their_order_once(
    anonymous_api, staff_api, guest_order
):
    line = guest_order.lines.get()
    claim = create_return(
        anonymous_api, guest_order, [line_input(line, 1)], token=guest_order.token
    )["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    approval = sent(claim, kinds.APPROVED)
    assert approval.row.to_email == "guest@example.com"
    (link,) = re.findall(r"\S+#signin=\S+", approval.text)
    assert link.startswith(order_links.portal_url())
    assert_links_to(approval, link)
    token = link.split("#signin=", 1)[1]
    assert order_links.redeem(token).host_id == host.ref(guest_order.pk)
    assert order_links.redeem(token) is None  # once


# Every kind has its words.


def test_every_kind_has_its_three_templates_in_both_languages():
    names = [
        f"aftersales/emails/{language}/{kind}.{suffix}"
        for language in aftersales_settings.LANGUAGES
        for kind in kinds.ALL
        for suffix in ("subject.txt", "txt", "html")
    ]
    assert len(names) == 2 * 10 * 3
    for name in names:
        assert get_template(name).origin.template_name == name


def test_the_desk_may_switch_off_every_kind_but_the_sign_in_link():
    assert aftersales_settings.EMAIL_KINDS == tuple(
        kind for kind in kinds.ALL if kind != kinds.ORDER_LINK
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_return_address_and_slip_are_shown_as_the_slips_give_them(language):
    """What a slip gives (the return warehouse's address lines, a PDF) is shown
    line by line and escaped, whatever the warehouse's address says."""
    from datetime import datetime

    from django.template.loader import select_template
    from django.utils import timezone, translation

    from saleor_aftersales.emails import content

    context = {
        "shop_name": "example.com",
        "language": language,
        "kind": kinds.APPROVED,
        "rma": "RMA-000042",
        "type": "exchange",
        "order_number": "42",
        "lines": [
            {
                "product_name": "Trail shoe",
                "variant_name": "Size 40",
                "sku": "TS-40",
                "quantity": 1,
                "quantity_approved": 1,
                "quantity_received": 0,
            }
        ],
        "message": "",
        "claim_url": "https://shop.example/returns/",
        "goods_come_back": True,
        "returnless": False,
        "send_by": datetime(2026, 3, 1, 12, tzinfo=pytz.utc),
        "return_address": ["Returns hub", "1 Dock Road", f"Gate {HOSTILE}"],
        "attachments": [("RMA-000042.pdf", b"%PDF-1.4", "application/pdf")],
    }
    with translation.override(language), timezone.override(pytz.utc):
        names = content._templates(language, kinds.APPROVED, "txt")
        text = content._plain(names, context)
        markup = select_template(
            content._templates(language, kinds.APPROVED, "html")
        ).render(context)
    assert "   Returns hub\n   1 Dock Road\n   Gate <script>" in text
    assert f"Returns hub<br>1 Dock Road<br>Gate {ESCAPED}</div>" in markup
    slip = say(language, "Print the return slip attached", "请打印本邮件附带的退货单")
    assert slip in text and slip in visible(markup)
    assert say(language, "by 1 March 2026", "请于 2026年3月1日 前寄出包裹") in text
    assert say(language, "we send you the replacement", "为您寄出换货商品") in text
    for part in (text, visible(markup)):
        assert say(language, "gives you on your request", "向售后服务台索取") not in part
