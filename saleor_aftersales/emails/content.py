"""What a shopper e-mail says: its context from the claim and the step, rendered
in the customer's language from ``aftersales/emails/<language>/<kind>.*``.

A shop overrides any of them by putting a template of the same path earlier in
its ``TEMPLATES`` directories. Each message has a subject (one line), a plain-text
body and an HTML body (``base.html`` gives the frame); the approval of goods that
come back carries the return slip as a PDF.
"""

import re
from datetime import timedelta
from typing import Dict, List, Optional

import pytz
from django.conf import settings as django_settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine, engines
from django.template.loader import select_template
from django.utils import timezone, translation

from .. import order_links, slips
from ..enums import HandBackMethod, RefundMethod, RejectReason, RequestType
from ..models import AftersalesRefund, CustomerEmail, OrderLink, RepairQuote
from ..port import host
from ..selectors import appeal_deadline
from . import kinds

# How long the sign-in link in a guest's claim e-mail works (it opens the order
# to rate, appeal or answer; single use like any other).
GUEST_LINK_DAYS = 14

_TRANSLATION = {"en": "en", "zh-hans": "zh-hans"}


def language_of(email: CustomerEmail, settings) -> str:
    chosen = (email.language or "").lower()
    return chosen if chosen in _TRANSLATION else settings.shopper_email_language


def _templates(language: str, kind: str, suffix: str) -> List[str]:
    return [
        f"aftersales/emails/{language}/{kind}.{suffix}",
        f"aftersales/emails/en/{kind}.{suffix}",
    ]


_text_engine: Optional[Engine] = None


def _plain_engine() -> Engine:
    """The shop's template engine without HTML escaping, for subjects and plain
    text (the same directories, so overrides apply to them too)."""
    global _text_engine
    if _text_engine is None:
        html = engines["django"].engine
        # Its loaders as it resolved them: Saleor 2.10 lists them itself (no
        # APP_DIRS), an app's settings may use APP_DIRS.
        _text_engine = Engine(
            dirs=html.dirs,
            loaders=html.loaders,
            libraries=html.libraries,
            builtins=[],
            autoescape=False,
        )
    return _text_engine


def _plain(names: List[str], context: Dict) -> str:
    template = _plain_engine().select_template(names)
    text = template.render(Context(context, autoescape=False))
    # Template tags on lines of their own leave blank lines: at most one in a row.
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text)


def message(email: CustomerEmail, settings) -> EmailMultiAlternatives:
    """The message as sent, with the shop's ``settings`` of the moment."""
    language = language_of(email, settings)
    desk_zone = pytz.timezone(settings.business_time_zone)
    with translation.override(_TRANSLATION[language]), timezone.override(desk_zone):
        context = _context(email, settings, language)
        subject = _plain(_templates(language, email.kind, "subject.txt"), context)
        text = _plain(_templates(language, email.kind, "txt"), context)
        html = select_template(_templates(language, email.kind, "html")).render(context)
    sender = getattr(django_settings, "AFTERSALES_EMAIL_FROM", "") or (
        django_settings.DEFAULT_FROM_EMAIL
    )
    mail = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=sender,
        to=[email.to_email],
        headers={
            "Message-ID": email.message_id,
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )
    mail.attach_alternative(html, "text/html")
    for name, data, mimetype in context.get("attachments", ()):
        mail.attach(name, data, mimetype)
    return mail


def _context(email: CustomerEmail, settings, language: str) -> Dict:
    shop = host.shop_domain()
    portal = order_links.portal_url(settings.portal_address)
    context = {
        "shop_name": shop,
        "language": language,
        "portal_url": portal,
        "kind": email.kind,
    }
    if email.kind == kinds.ORDER_LINK:
        link = OrderLink.objects.select_related("order").get(
            nonce=email.key.split(":", 1)[1]
        )
        context.update(
            order_number=link.order.number,
            link_url=order_links.url(link, settings.portal_address),
            link_expires_at=link.expires_at,
        )
        return context
    request = email.request
    event = email.event
    order = request.order
    lines = list(request.lines.select_related("order_line"))
    context.update(
        request=request,
        rma=request.number,
        type=request.type,
        order_number=order.number,
        lines=[
            {
                "product_name": line.order_line.product_name,
                "variant_name": line.order_line.variant_name,
                "sku": line.order_line.sku,
                "quantity": line.quantity_requested,
                "quantity_approved": line.quantity_approved,
                "quantity_received": line.quantity_received,
                "reason": line.reason,
            }
            for line in lines
        ],
        message=event.message,
        parameters=event.parameters,
        claim_url=portal,
    )
    if not request.customer_ref:
        # A guest can't sign in: the message opens their order, once.
        link = order_links.create(order, valid_for=timedelta(days=GUEST_LINK_DAYS))
        context["claim_url"] = order_links.url(link, settings.portal_address)
    _KIND_CONTEXT.get(email.kind, lambda *args: None)(context, request, event, settings)
    return context


def _received(context, request, _event, _settings):
    context["response_due_at"] = request.sla_response_due_at
    context["resolution_due_at"] = request.sla_resolution_due_at


def _approved(context, request, event, settings):
    goods_come_back = request.type in (RequestType.RETURN, RequestType.EXCHANGE)
    context["goods_come_back"] = goods_come_back and not request.returnless
    context["returnless"] = request.returnless
    if not context["goods_come_back"]:
        return
    approved_at = request.approved_at or event.created_at
    context["send_by"] = approved_at + timedelta(days=settings.return_send_days)
    # The slip as the claim stands now (the goods may have arrived meanwhile: then
    # it's still the customer's record of what was approved).
    slip = slips.slip_for(request, context["language"], settings=settings)
    context["return_address"] = list(slip.return_address)
    context["attachments"] = [
        (f"{request.number}.pdf", slips.render(slip, slips.A4), "application/pdf")
    ]


def _rejected(context, request, event, settings):
    reason = event.parameters.get("reason") or request.reject_reason
    context["reason"] = reason
    context["reason_label"] = dict(RejectReason.CHOICES).get(reason, reason)
    context["can_appeal"] = request.appealed_at is None
    context["appeal_until"] = appeal_deadline(request, settings)


def _refunded(context, request, event, _settings):
    refund = AftersalesRefund.objects.get(pk=event.parameters["refund"])
    context["refund"] = refund
    context["amount"] = refund.amount
    context["currency"] = refund.currency
    context["store_credit"] = refund.method == RefundMethod.STORE_CREDIT
    if context["store_credit"] and refund.gift_card_ref:
        # The one place the whole code is shown: the customer's own mailbox.
        context["gift_card_code"] = host.gift_card_code(refund.gift_card_ref)
        context["credit_amount"] = refund.credit_amount


def _quote_ready(context, request, _event, _settings):
    quote = RepairQuote.objects.prefetch_related("lines").get(request=request)
    context["quote"] = quote
    context["quote_lines"] = list(quote.lines.all())
    context["total"] = quote.total_amount
    context["currency"] = quote.currency


def _repair_finished(context, request, _event, _settings):
    context["hand_back_method"] = request.hand_back_method
    context["hand_back_label"] = dict(HandBackMethod.CHOICES).get(
        request.hand_back_method, request.hand_back_method
    )
    context["tracking_number"] = request.hand_back_tracking_number


_KIND_CONTEXT = {
    kinds.RECEIVED: _received,
    kinds.APPROVED: _approved,
    kinds.REJECTED: _rejected,
    kinds.REFUNDED: _refunded,
    kinds.QUOTE_READY: _quote_ready,
    kinds.REPAIR_FINISHED: _repair_finished,
}
