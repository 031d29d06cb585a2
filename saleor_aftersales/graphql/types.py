import graphene
from django.utils import timezone
from graphene import relay
from prices import Money

from .. import analytics, models, photos, selectors, sla, slips, stats, workflow
from .host import api
from ..enums import Action, RefundStatus
from ..settings import AftersalesSettings
from ..configuration import get_settings
from ..warranty import display_code
from .authorize import is_staff_viewer, may_see_account, sees_whole_order
from .selection import selected_fields
from .enums import (
    AftersalesAction,
    AftersalesActorType,
    AftersalesDisposition,
    AftersalesErrorCode,
    AftersalesEventType,
    AftersalesHandBackMethod,
    AftersalesIneligibility,
    AftersalesPaper,
    AftersalesReason,
    AftersalesRefundMethod,
    AftersalesRefundStatus,
    AftersalesRejectReason,
    AftersalesRequestStatus,
    AftersalesRequestType,
    AftersalesResolution,
    RepairQuoteLineKind,
    WarrantyCardEventType,
    WarrantyCardStatus,
    WarrantyEndedBy,
    WarrantyUsageUnit,
)


def _blank_to_none(value):
    return value or None


# The relations (``selectors.PREFETCHED``) that the resolvers of each field of
# AftersalesRequest read; a read path prefetches those of the fields a query
# selects, so a page that shows no photos doesn't load them.
_ACTION_RELATIONS = frozenset({"lines", "refunds", "photos"})
RELATIONS_OF_FIELD = {
    "lines": {"lines"},
    "events": {"events"},
    "refunds": {"refunds"},
    "refundedAmount": {"refunds"},
    "photos": {"photos"},
    "emails": {"emails"},
    "canAppeal": set(),  # the row alone decides
    "availableActions": _ACTION_RELATIONS,
}


def request_relations(info, *path: str) -> set:
    """The relations to prefetch for the claims shown at ``path`` below the
    field being resolved."""
    return {
        relation
        for field in selected_fields(info, *path)
        for relation in RELATIONS_OF_FIELD.get(field, ())
    }


def masked_gift_card_code(code: str) -> str:
    """What a guest sees of a gift card: its last four characters, nothing of its
    length; the full code pays at any checkout."""
    return f"••••-••••-••••-{code[-4:]}"


def order_for_viewer(info, order, claimed_order=None):
    """Saleor's Order behind the copy ``order`` (addresses, phone, e-mail,
    payments), to staff and the signed-in owner of ``claimed_order``; null to a
    guest with the token. Saleor's orders of a page load in one batch."""
    if order is None or not sees_whole_order(info, claimed_order or order):
        return None
    return HostOrderByRef(info.context).load(order.host_id)


def saleor_order_line(root, info):
    """Saleor's order line behind ``root.order_line`` (the core's copy); a page's
    lines load in one batch."""
    return HostOrderLineByRef(info.context).load(root.order_line.host_id)


def staff_only(attribute: str):
    """A resolver that shows ``attribute`` to staff (MANAGE_ORDERS) and null to
    anyone else."""

    def resolve(root, info):
        return getattr(root, attribute) if is_staff_viewer(info) else None

    return staticmethod(resolve)


class AftersalesError(graphene.ObjectType):
    field = graphene.String(
        description="Name of the input field the error is about; null for the whole."
    )
    message = graphene.String(description="What went wrong, for people.")
    code = AftersalesErrorCode(
        description="What went wrong, for programs.", required=True
    )

    class Meta:
        description = "An after-sales mutation's error."


class AftersalesLine(api.CountableDjangoObjectType):
    quantity = graphene.Int(required=True, description="Units the customer claims.")
    quantity_approved = graphene.Int(required=True, description="Units approved.")
    quantity_received = graphene.Int(required=True, description="Units received.")
    quantity_restocked = graphene.Int(
        required=True, description="Received units put back into stock."
    )
    quantity_missing = graphene.Int(
        required=True, description="Approved units missing from the returned parcel."
    )
    quantity_refunded = graphene.Int(required=True, description="Units refunded.")
    reason = AftersalesReason(required=True, description="Why the line is claimed.")
    disposition = AftersalesDisposition(description="What became of the units.")
    unit_price = graphene.Field(
        api.MoneyType, required=True, description="What the customer paid per unit."
    )
    order_line = graphene.Field(
        api.OrderLineType, required=True, description="The order line claimed."
    )
    replacement_variant = graphene.Field(
        api.ProductVariantType, description="Exchanges: the variant wanted instead."
    )
    policy_exception = AftersalesIneligibility(
        description="Staff opened this line despite the policy (staff only)."
    )

    class Meta:
        model = models.AftersalesLine
        interfaces = [relay.Node]
        only_fields = [
            "id",
            "comment",
            "serial_number",
            "meter_reading",
        ]
        convert_choices_to_enum = False
        description = "A line of a claim: units of one order line."

    @staticmethod
    def resolve_quantity(root: models.AftersalesLine, _info):
        return root.quantity_requested

    @staticmethod
    def resolve_policy_exception(root: models.AftersalesLine, info):
        if not is_staff_viewer(info):
            return None
        return _blank_to_none(root.policy_exception)

    @staticmethod
    def resolve_replacement_variant(root: models.AftersalesLine, info):
        # Saleor's variants of a page in one batch (its type would re-query each).
        if not root.replacement_variant_ref:
            return None
        return HostVariantByRef(info.context).load(root.replacement_variant_ref)

    @staticmethod
    def resolve_disposition(root: models.AftersalesLine, _info):
        return _blank_to_none(root.disposition)

    @staticmethod
    def resolve_unit_price(root: models.AftersalesLine, _info):
        return Money(root.unit_price_gross_amount, root.order_line.currency)

    resolve_order_line = staticmethod(saleor_order_line)


class AftersalesEvent(api.CountableDjangoObjectType):
    type = AftersalesEventType(required=True, description="What happened.")
    date = graphene.DateTime(required=True, description="When it happened.")
    actor_type = AftersalesActorType(required=True, description="Who did it.")
    from_status = AftersalesRequestStatus(description="Status before the step.")
    to_status = AftersalesRequestStatus(description="Status after the step.")
    user = graphene.Field(
        api.UserType,
        description="The account that acted (shown as Saleor shows users: to "
        "themselves and to staff managing users).",
    )
    parameters = graphene.JSONString(description="Details of the step (staff only).")

    class Meta:
        model = models.AftersalesEvent
        interfaces = [relay.Node]
        only_fields = ["id", "message"]
        convert_choices_to_enum = False
        description = "One step of a claim's audit trail."

    @staticmethod
    def resolve_date(root: models.AftersalesEvent, _info):
        return root.created_at

    @staticmethod
    def resolve_user(root: models.AftersalesEvent, info):
        return _account_for_viewer(info, root.user_ref)

    @staticmethod
    def resolve_parameters(root: models.AftersalesEvent, info):
        return root.parameters if is_staff_viewer(info) else None

    @staticmethod
    def resolve_from_status(root: models.AftersalesEvent, _info):
        return _blank_to_none(root.from_status)

    @staticmethod
    def resolve_to_status(root: models.AftersalesEvent, _info):
        return _blank_to_none(root.to_status)


class AftersalesRefund(api.CountableDjangoObjectType):
    status = AftersalesRefundStatus(required=True, description="Outcome.")
    method = AftersalesRefundMethod(required=True, description="Where the money went.")
    amount = graphene.Field(api.MoneyType, required=True, description="Refunded.")
    shipping = graphene.Field(
        api.MoneyType, required=True, description="Shipping included in the amount."
    )
    restocking_fee = graphene.Field(
        api.MoneyType, required=True, description="Kept as restocking fee."
    )
    credit = graphene.Field(
        api.MoneyType,
        description="Store credit: the gift card's balance (amount plus any bonus).",
    )
    gift_card_code = graphene.String(
        description=(
            "Store credit: the Saleor gift card code to spend at checkout; a guest "
            "sees its last four characters only (••••-••••-••••-ABCD)."
        )
    )
    error = graphene.String(description="Why the gateway refused (staff only).")
    idempotency_key = graphene.String(description="The key it was made with (staff).")
    gateway_reference = graphene.String(description="The gateway's id (staff only).")

    class Meta:
        model = models.AftersalesRefund
        interfaces = [relay.Node]
        only_fields = ["id", "created_at", "completed_at"]
        convert_choices_to_enum = False
        description = "Money sent back for a claim."

    @staticmethod
    def resolve_amount(root: models.AftersalesRefund, _info):
        return Money(root.amount, root.currency)

    @staticmethod
    def resolve_shipping(root: models.AftersalesRefund, _info):
        return Money(root.shipping_amount, root.currency)

    @staticmethod
    def resolve_restocking_fee(root: models.AftersalesRefund, _info):
        return Money(root.restocking_fee_amount, root.currency)

    @staticmethod
    def resolve_credit(root: models.AftersalesRefund, _info):
        if root.credit_amount is None:
            return None
        return Money(root.credit_amount, root.currency)

    @staticmethod
    def resolve_gift_card_code(root: models.AftersalesRefund, info):
        # Only the claim's owner, a guest with its token or staff reach a refund;
        # the full code is money, so a guest's token shows the last four only.
        if not root.gift_card_ref:
            return None
        whole = is_staff_viewer(info) or sees_whole_order(info, root.request.order)

        def shown(card):
            if card is None:
                return None
            return card.code if whole else masked_gift_card_code(card.code)

        return HostGiftCardByRef(info.context).load(root.gift_card_ref).then(shown)

    resolve_error = staff_only("error")
    resolve_idempotency_key = staff_only("idempotency_key")
    resolve_gateway_reference = staff_only("gateway_reference")


class AftersalesPhoto(graphene.ObjectType):
    id = graphene.ID(required=True)
    url = graphene.String(
        required=True,
        description=(
            "A link to the photo (at most 2048 px on its longest side, without "
            "metadata), valid for an hour."
        ),
    )
    thumbnail_url = graphene.String(
        required=True,
        description=(
            "A link to its thumbnail (at most 320 px; the photo itself for photos "
            "kept before thumbnails existed), valid for an hour."
        ),
    )
    content_type = graphene.String(required=True)
    size = graphene.Int(required=True, description="Bytes.")
    uploaded_by = AftersalesActorType(required=True)
    created_at = graphene.DateTime(required=True)

    class Meta:
        description = "A photo attached to a claim as evidence."

    @staticmethod
    def resolve_id(root: models.AftersalesPhoto, _info):
        return graphene.Node.to_global_id("AftersalesPhoto", root.pk)

    @staticmethod
    def resolve_url(root: models.AftersalesPhoto, _info):
        return photos.signed_url(root)

    @staticmethod
    def resolve_thumbnail_url(root: models.AftersalesPhoto, _info):
        return photos.signed_thumbnail_url(root)

    @staticmethod
    def resolve_uploaded_by(root: models.AftersalesPhoto, _info):
        return root.actor_type


class AftersalesRequest(api.CountableDjangoObjectType):
    number = graphene.String(required=True, description="Human number, RMA-000123.")
    type = AftersalesRequestType(required=True, description="Kind of claim.")
    status = AftersalesRequestStatus(required=True, description="Workflow status.")
    reject_reason = AftersalesRejectReason(description="Why it was rejected.")
    resolution = AftersalesResolution(description="How it was settled.")
    lines = graphene.List(
        graphene.NonNull(AftersalesLine), required=True, description="Claimed lines."
    )
    events = graphene.List(
        graphene.NonNull(AftersalesEvent),
        required=True,
        description="Audit trail; customers see the steps that concern them.",
    )
    refunds = graphene.List(
        graphene.NonNull(AftersalesRefund), required=True, description="Refunds."
    )
    refunded_amount = graphene.Field(
        api.MoneyType, required=True, description="Money successfully refunded."
    )
    order = graphene.Field(
        api.OrderType,
        description="The order claimed on (to staff and its signed-in owner; null "
        "to a guest with the token, who has aftersalesEligibility's summary).",
    )
    replacement_order = graphene.Field(
        api.OrderType,
        description="Exchanges: the order sending the replacement (to staff and "
        "the signed-in owner).",
    )
    user = graphene.Field(
        api.UserType,
        description="The customer's account (to themselves and staff managing users).",
    )
    assignee = graphene.Field(api.UserType, description="Staff in charge (staff only).")
    quote = graphene.Field(lambda: RepairQuote, description="Repairs: the quote.")
    warranty_card = graphene.Field(
        lambda: WarrantyCard, description="Repairs: the warranty card shown."
    )
    hand_back = AftersalesHandBackMethod(description="Repairs: how it went back.")
    can_appeal = graphene.Boolean(
        required=True, description="Whether the customer may still appeal."
    )
    available_actions = graphene.List(
        graphene.NonNull(AftersalesAction),
        required=True,
        description=(
            "The steps the viewer may take now, each one mutation: the desk's to "
            "staff and apps with MANAGE_ORDERS, the customer's to the claim's "
            "customer (signed in, or a guest with the order's token). A step listed "
            "is open as far as the claim tells; the mutation still checks what only "
            "it can (stock, the payment, amounts)."
        ),
    )
    returnless = graphene.Boolean(
        required=True,
        description="Refunded without the goods coming back: keep them.",
    )
    photos = graphene.List(
        graphene.NonNull(AftersalesPhoto),
        required=True,
        description="Photos attached as evidence.",
    )
    return_slip_url = graphene.String(
        paper=AftersalesPaper(default_value="A4", description="Paper size."),
        description=(
            "A link to the printable return slip (PDF: the RMA as text, QR code "
            "and barcode, the lines, the return address, what to do by when), "
            "valid for an hour; add ?language=zh-hans for Simplified Chinese. "
            "Null unless a return or exchange is approved and its goods are "
            "awaited."
        ),
    )
    customer_history = graphene.Field(
        lambda: AftersalesCustomerHistory,
        description="The customer's claims and returns so far (staff only).",
    )
    sla_response_due_at = graphene.DateTime(
        description="First answer due (business time; staff only)."
    )
    sla_resolution_due_at = graphene.DateTime(
        description="Resolution due (business time; staff only)."
    )
    first_response_at = graphene.DateTime(
        description="When staff first answered the customer (staff only)."
    )
    is_overdue = graphene.Boolean(
        description="Whether the first answer or the resolution is late (staff only)."
    )
    language = graphene.String(
        description="Language the customer hears from the shop in (en, zh-hans); "
        "null: the shop's default."
    )
    emails = graphene.List(
        graphene.NonNull(lambda: AftersalesCustomerEmail),
        description="The e-mails sent to the customer about this claim, and how "
        "each sending went (staff only).",
    )

    class Meta:
        model = models.AftersalesRequest
        interfaces = [relay.Node]
        only_fields = [
            "id",
            "order",
            "user_email",
            "customer_note",
            "created_at",
            "updated_at",
            "approved_at",
            "received_at",
            "resolved_at",
            "closed_at",
            "under_warranty",
            "warranty_note",
            "received_condition",
            "received_accessories",
            "hand_back_tracking_number",
            "replacement_order",
            "rating",
            "rating_comment",
        ]
        convert_choices_to_enum = False
        description = "A customer's after-sales claim on an order."

    @staticmethod
    def resolve_photos(root: models.AftersalesRequest, _info):
        return selectors.related(root, "photos")

    @staticmethod
    def resolve_return_slip_url(root: models.AftersalesRequest, _info, paper="A4"):
        if not slips.is_available(root):
            return None
        return slips.signed_url(root, paper or slips.A4)

    @staticmethod
    def resolve_order(root: models.AftersalesRequest, info):
        return order_for_viewer(info, root.order)

    @staticmethod
    def resolve_replacement_order(root: models.AftersalesRequest, info):
        if root.replacement_order_id is None:
            return None
        return order_for_viewer(info, root.replacement_order, root.order)

    @staticmethod
    def resolve_customer_history(root: models.AftersalesRequest, info):
        if not is_staff_viewer(info) or not root.user_email:
            return None
        return CustomerHistoryByEmail(info.context).load(root.user_email)

    @staticmethod
    def resolve_language(root: models.AftersalesRequest, _info):
        return _blank_to_none(root.language)

    @staticmethod
    def resolve_emails(root: models.AftersalesRequest, info):
        if not is_staff_viewer(info):
            return None
        return selectors.related(root, "emails")

    resolve_sla_response_due_at = staff_only("sla_response_due_at")
    resolve_sla_resolution_due_at = staff_only("sla_resolution_due_at")
    resolve_first_response_at = staff_only("first_response_at")

    @staticmethod
    def resolve_is_overdue(root: models.AftersalesRequest, info):
        if not is_staff_viewer(info):
            return None
        return sla.is_overdue(root, timezone.now())

    @staticmethod
    def resolve_reject_reason(root: models.AftersalesRequest, _info):
        return _blank_to_none(root.reject_reason)

    @staticmethod
    def resolve_resolution(root: models.AftersalesRequest, _info):
        return _blank_to_none(root.resolution)

    @staticmethod
    def resolve_lines(root: models.AftersalesRequest, _info):
        return selectors.related(root, "lines")

    @staticmethod
    def resolve_events(root: models.AftersalesRequest, info):
        events = selectors.related(root, "events")
        if is_staff_viewer(info):
            return events
        return [event for event in events if event.is_public]

    @staticmethod
    def resolve_refunds(root: models.AftersalesRequest, _info):
        return selectors.related(root, "refunds")

    @staticmethod
    def resolve_refunded_amount(root: models.AftersalesRequest, _info):
        total = sum(
            (
                r.amount
                for r in selectors.related(root, "refunds")
                if r.status == RefundStatus.SUCCESS
            ),
            0,
        )
        return Money(total, root.currency)

    @staticmethod
    def resolve_user(root: models.AftersalesRequest, info):
        return _account_for_viewer(info, root.customer_ref)

    @staticmethod
    def resolve_assignee(root: models.AftersalesRequest, info):
        if not is_staff_viewer(info) or not root.assignee_ref:
            return None
        return HostUserByRef(info.context).load(root.assignee_ref)

    @staticmethod
    def resolve_quote(root: models.AftersalesRequest, _info):
        return getattr(root, "quote", None)

    @staticmethod
    def resolve_hand_back(root: models.AftersalesRequest, _info):
        return _blank_to_none(root.hand_back_method)

    @staticmethod
    def resolve_can_appeal(root: models.AftersalesRequest, _info):
        return workflow.may(root, Action.APPEAL)

    @staticmethod
    def resolve_available_actions(root: models.AftersalesRequest, info):
        as_staff = is_staff_viewer(info)
        return (
            ShopSettings(info.context)
            .load("shop")
            .then(
                lambda settings: workflow.available_actions(
                    root, as_staff=as_staff, settings=settings
                )
            )
        )


class AftersalesEligibilityLine(graphene.ObjectType):
    order_line = graphene.Field(api.OrderLineType, required=True)

    resolve_order_line = staticmethod(saleor_order_line)

    quantity_fulfilled = graphene.Int(required=True, description="Units delivered.")
    quantity_in_claims = graphene.Int(
        required=True, description="Units already held by other open claims."
    )
    returnable_quantity = graphene.Int(
        required=True, description="Units that can be returned today."
    )
    return_deadline = graphene.DateTime(
        description="Last moment to return for a fault (defective, wrong item, ...)."
    )
    changed_mind_deadline = graphene.DateTime(
        description="Last moment to return a unit nothing is wrong with."
    )
    exchange_deadline = graphene.DateTime(description="Last moment to exchange.")
    exchangeable_quantity = graphene.Int(
        required=True, description="Units that can be exchanged today."
    )
    final_sale = graphene.Boolean(
        required=True, description="Sold as final sale: no returns or exchanges."
    )
    ineligible_reason = AftersalesIneligibility(
        description="Why nothing of the line can be returned today; null if it can."
    )
    restocking_fee_percent = graphene.Field(
        api.DecimalScalar,
        required=True,
        description="Kept of the value on changed-mind and size returns.",
    )
    warranty_cards = graphene.List(
        graphene.NonNull(lambda: WarrantyCard),
        required=True,
        description="The warranty cards of the line's units.",
    )

    class Meta:
        description = "What can be claimed of one order line, and until when."


class AftersalesEligibility(graphene.ObjectType):
    order = graphene.Field(
        api.OrderType,
        description="The order as Saleor shows it, to staff and its signed-in "
        "owner; null to a guest with the token (see the fields below).",
    )
    order_number = graphene.String(required=True, description="The order's number.")
    customer_name = graphene.String(description="The name the order was sent to.")
    city = graphene.String(description="The city it was sent to.")
    country = graphene.String(
        description="The country it was sent to (ISO 3166-1 alpha-2 code)."
    )
    lines = graphene.List(graphene.NonNull(AftersalesEligibilityLine), required=True)
    is_returnable = graphene.Boolean(
        required=True, description="Whether any unit can be returned today."
    )
    requests = graphene.List(
        graphene.NonNull(lambda: AftersalesRequest),
        required=True,
        description="The order's claims so far, newest first.",
    )

    class Meta:
        description = "What of an order can be claimed."

    def __init__(self, host_order=None, **kwargs):
        super().__init__(**kwargs)
        # Saleor's order, already read: its addresses name the returns page.
        self.host_order = host_order

    @staticmethod
    def resolve_order(root, info):
        return root.host_order if sees_whole_order(info, root.order) else None

    @staticmethod
    def resolve_order_number(root, _info):
        return root.order.number

    @staticmethod
    def resolve_customer_name(root, _info):
        name, _city, _country = api.sent_to(root.host_order)
        return name or None

    @staticmethod
    def resolve_city(root, _info):
        _name, city, _country = api.sent_to(root.host_order)
        return city or None

    @staticmethod
    def resolve_country(root, _info):
        _name, _city, country = api.sent_to(root.host_order)
        return country or None


class WarrantyCardEvent(graphene.ObjectType):
    type = WarrantyCardEventType(required=True)
    date = graphene.DateTime(required=True)
    actor_type = AftersalesActorType(required=True)
    message = graphene.String(required=True)

    class Meta:
        description = "One change of a warranty card."

    @staticmethod
    def resolve_date(root: models.WarrantyCardEvent, _info):
        return root.created_at


class WarrantyTerms:
    """Fields a card and its public verification share."""

    product_name = graphene.String(description="Product sold.")
    variant_name = graphene.String(description="Variant sold.")
    variant_sku = graphene.String(description="SKU of the variant.")
    starts_at = graphene.DateTime(description="Cover starts (fulfillment date).")
    ends_at = graphene.DateTime(description="Cover ends.")
    usage_limit = graphene.Int(description="Usage limit, e.g. 40000 (km).")
    usage_unit = WarrantyUsageUnit(description="Unit of the usage limit.")


class WarrantyCard(WarrantyTerms, api.CountableDjangoObjectType):
    code = graphene.String(required=True, description="The card's code, grouped.")
    order = graphene.Field(
        api.OrderType,
        description="The order it came with (to staff and the signed-in owner).",
    )
    order_line = graphene.Field(
        api.OrderLineType, required=True, description="The order line it covers."
    )
    status = WarrantyCardStatus(required=True, description="Valid, expired or void.")
    void_reason = graphene.String(description="Why it was voided (staff only).")
    events = graphene.List(
        graphene.NonNull(WarrantyCardEvent),
        required=True,
        description="Extensions, voiding, serial numbers (staff only).",
    )

    class Meta:
        model = models.WarrantyCard
        interfaces = [relay.Node]
        only_fields = [
            "id",
            "serial_number",
            "created_at",
        ]
        convert_choices_to_enum = False
        description = "The warranty of one sold unit."

    @staticmethod
    def resolve_code(root: models.WarrantyCard, _info):
        return display_code(root.code)

    @staticmethod
    def resolve_order(root: models.WarrantyCard, info):
        return order_for_viewer(info, root.order)

    resolve_order_line = staticmethod(saleor_order_line)

    @staticmethod
    def resolve_status(root: models.WarrantyCard, _info):
        return root.status_at(timezone.now())

    @staticmethod
    def resolve_usage_unit(root: models.WarrantyCard, _info):
        return _blank_to_none(root.usage_unit)

    @staticmethod
    def resolve_void_reason(root: models.WarrantyCard, info):
        return root.void_reason if is_staff_viewer(info) else None

    @staticmethod
    def resolve_events(root: models.WarrantyCard, info):
        return root.events.all() if is_staff_viewer(info) else []


class WarrantyCardVerification(WarrantyTerms, graphene.ObjectType):
    code = graphene.String(description="The code as the shop writes it.")
    valid = graphene.Boolean(required=True, description="Whether it covers now.")
    status = WarrantyCardStatus(description="Valid, expired or void.")
    ended_by = WarrantyEndedBy(description="Which limit ended the cover.")
    errors = graphene.List(
        graphene.NonNull(AftersalesError),
        required=True,
        description="INVALID_CODE, NOT_FOUND or THROTTLED.",
    )

    class Meta:
        description = "Public answer about a warranty card: no personal data."


class RepairQuoteLine(graphene.ObjectType):
    kind = RepairQuoteLineKind(required=True)
    description = graphene.String(required=True)
    quantity = graphene.Int(required=True)
    unit_price = graphene.Field(api.MoneyType, required=True)
    total = graphene.Field(api.MoneyType, required=True)

    class Meta:
        description = "One priced line of a repair quote."

    @staticmethod
    def resolve_unit_price(root: models.RepairQuoteLine, _info):
        return Money(root.unit_price_amount, root.quote.currency)

    @staticmethod
    def resolve_total(root: models.RepairQuoteLine, _info):
        return Money(root.total_amount, root.quote.currency)


class RepairQuote(graphene.ObjectType):
    diagnosis = graphene.String(required=True)
    under_warranty = graphene.Boolean(required=True)
    lines = graphene.List(graphene.NonNull(RepairQuoteLine), required=True)
    total = graphene.Field(api.MoneyType, required=True, description="To pay.")
    accepted = graphene.Boolean(description="The customer's answer; null: waiting.")
    order = graphene.Field(
        api.OrderType,
        description="The order that collects it (to staff and the signed-in owner).",
    )

    class Meta:
        description = "The itemised price of a repair."

    @staticmethod
    def resolve_order(root: models.RepairQuote, info):
        if root.order_id is None:
            return None
        return order_for_viewer(info, root.order, root.request.order)

    @staticmethod
    def resolve_lines(root: models.RepairQuote, _info):
        return root.lines.all()

    @staticmethod
    def resolve_total(root: models.RepairQuote, _info):
        return Money(root.total_amount, root.currency)


class AftersalesWebhook(api.CountableDjangoObjectType):
    event_types = graphene.List(graphene.NonNull(graphene.String), required=True)

    class Meta:
        model = models.WebhookSubscription
        interfaces = [relay.Node]
        only_fields = ["id", "name", "target_url", "is_active", "created_at"]
        description = "A URL that hears about claims and cards (its secret stays here)."


class AftersalesWebhookDelivery(api.CountableDjangoObjectType):
    payload = graphene.JSONString(required=True)
    webhook = graphene.Field(AftersalesWebhook)

    class Meta:
        model = models.WebhookDelivery
        interfaces = [relay.Node]
        only_fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_response_code",
            "last_error",
            "created_at",
            "delivered_at",
        ]
        convert_choices_to_enum = False
        description = "One event for one subscription, and how its sending went."

    @staticmethod
    def resolve_webhook(root: models.WebhookDelivery, _info):
        return root.subscription


class AftersalesCustomerEmailAttempt(graphene.ObjectType):
    attempted_at = graphene.DateTime(required=True)
    smtp_code = graphene.Int(description="The SMTP server's reply code, if any.")
    error = graphene.String(required=True, description="Empty when it was sent.")
    duration_ms = graphene.Int(required=True)

    class Meta:
        description = "One try at sending a customer e-mail."


class AftersalesCustomerEmail(api.CountableDjangoObjectType):
    kind = graphene.String(
        required=True,
        description="received, info_requested, approved, rejected, goods_received, "
        "refunded, quote_ready, repair_finished, closed or order_link.",
    )
    status = graphene.String(
        required=True, description="pending, sent, failed or skipped (switched off)."
    )
    attempt_log = graphene.List(
        graphene.NonNull(AftersalesCustomerEmailAttempt), required=True
    )

    class Meta:
        model = models.CustomerEmail
        interfaces = [relay.Node]
        only_fields = [
            "id",
            "to_email",
            "language",
            "attempts",
            "next_attempt_at",
            "last_error",
            "subject",
            "created_at",
            "sent_at",
        ]
        convert_choices_to_enum = False
        description = "An e-mail to a claim's customer (staff only)."

    @staticmethod
    def resolve_attempt_log(root: models.CustomerEmail, _info):
        return list(root.attempt_log.all())


class AftersalesSetting(graphene.ObjectType):
    name = graphene.String(required=True)
    value = graphene.String(description="As stored; null for secrets.")
    kind = graphene.String(required=True, description="TEXT, SWITCH or SECRET.")
    help_text = graphene.String(required=True)

    class Meta:
        description = "One of the shop's after-sales settings."


class AftersalesOrderLookup(graphene.ObjectType):
    order_token = graphene.UUID(
        description="Always null (see aftersalesOrderLinkRedeem)."
    )
    order_number = graphene.String(description="Always null.")
    errors = graphene.List(graphene.NonNull(AftersalesError), required=True)

    class Meta:
        description = "Deprecated: aftersalesOrderLookup's answer; errors only."


class AftersalesRefundPreview(graphene.ObjectType):
    goods = graphene.Field(api.MoneyType, description="The units' value.")
    restocking_fee = graphene.Field(api.MoneyType, description="Kept.")
    shipping = graphene.Field(api.MoneyType, description="Shipping included.")
    amount = graphene.Field(api.MoneyType, description="Refunded by default.")
    maximum = graphene.Field(api.MoneyType, description="At most, by hand.")
    errors = graphene.List(graphene.NonNull(AftersalesError), required=True)

    class Meta:
        description = "What aftersalesRequestRefund would pay now, before paying."


class AftersalesPolicy(graphene.ObjectType):
    product_type = graphene.Field(
        api.ProductTypeType, description="The product type; null: the shop default."
    )
    final_sale = graphene.Boolean(required=True, description="No returns or exchanges.")
    return_window_days = graphene.Int(required=True, description="Return window.")
    changed_mind_window_days = graphene.Int(
        required=True, description="Window for returns nothing is wrong with."
    )
    exchange_window_days = graphene.Int(required=True, description="Exchange window.")
    restocking_fee_percent = graphene.Field(
        api.DecimalScalar, required=True, description="On changed-mind returns."
    )
    returnless_refund_below = graphene.Field(
        api.DecimalScalar,
        required=True,
        description="Returns worth less are refunded without coming back; 0: never.",
    )
    shipping_refundable = graphene.Boolean(
        required=True, description="Whether refunds include the order's shipping."
    )
    warranty_months = graphene.Int(required=True, description="Warranty length.")
    warranty_usage_limit = graphene.Int(
        description="Warranty ends at this usage too, e.g. 40000 (km); null: no limit."
    )
    warranty_usage_unit = WarrantyUsageUnit(description="Unit of the usage limit.")

    class Meta:
        description = (
            "After-sales terms of a product type, with the shop's defaults filled in."
        )


def _account_for_viewer(info, user_ref: str):
    """The account, as Saleor shows users: to themselves and to staff managing
    users; null to anyone else."""
    if not user_ref:
        return None
    return (
        HostUserByRef(info.context)
        .load(user_ref)
        .then(lambda account: account if may_see_account(info, account) else None)
    )


def _by_ref(context_key: str, fetch):
    """A loader of the host's records by reference: a page's in one batch."""

    class ByRef(api.DataLoader):
        def batch_load(self, keys):
            found = fetch(keys)
            return [found.get(key) for key in keys]

    ByRef.context_key = context_key
    ByRef.__name__ = ByRef.__qualname__ = context_key  # in traces
    return ByRef


HostUserByRef = _by_ref("aftersales_host_user_by_ref", api.users_by_ref)
HostVariantByRef = _by_ref("aftersales_host_variant_by_ref", api.variants_by_ref)
HostGiftCardByRef = _by_ref("aftersales_host_gift_card_by_ref", api.gift_cards_by_ref)
# Saleor's orders and order lines behind the copies on a page.
HostOrderByRef = _by_ref("aftersales_host_order_by_ref", api.orders_by_ref)
HostOrderLineByRef = _by_ref(
    "aftersales_host_order_line_by_ref", api.order_lines_by_ref
)


class ShopSettings(api.DataLoader):
    """The shop's settings, read once per GraphQL request (one query) however many
    claims ask."""

    context_key = "aftersales_shop_settings"

    def batch_load(self, keys):
        settings: AftersalesSettings = get_settings()
        return [settings for _key in keys]


class CustomerHistoryByEmail(api.DataLoader):
    """Histories of every customer on a page of claims, in one batch."""

    context_key = "aftersales_customer_history_by_email"

    def batch_load(self, keys):
        histories = stats.customer_histories(list(keys), get_settings())
        return [histories.get(key) for key in keys]


class AftersalesCustomerHistory(graphene.ObjectType):
    email = graphene.String(required=True, description="The customer's e-mail.")
    claim_count = graphene.Int(required=True, description="Claims of any kind.")
    units_bought = graphene.Int(required=True, description="Units delivered to them.")
    units_returned = graphene.Int(
        required=True,
        description="Units in their returns and exchanges (not rejected).",
    )
    return_rate_percent = graphene.Float(
        description="Units returned per 100 bought; null if nothing was delivered."
    )
    refunded = graphene.List(
        graphene.NonNull(api.MoneyType),
        required=True,
        description="Refunded to them, per currency (store credit included).",
    )
    is_serial_returner = graphene.Boolean(
        required=True,
        description="At or above the shop's return-rate threshold, after enough claims.",
    )

    class Meta:
        description = "A customer's after-sales record: the serial-returner signal."

    @staticmethod
    def resolve_return_rate_percent(root: stats.CustomerHistory, _info):
        return root.return_rate_percent

    @staticmethod
    def resolve_refunded(root: stats.CustomerHistory, _info):
        return [Money(total, currency) for currency, total in root.refunded]


class AftersalesStatusCount(graphene.ObjectType):
    status = AftersalesRequestStatus(required=True)
    count = graphene.Int(required=True)


class AftersalesTypeCount(graphene.ObjectType):
    type = AftersalesRequestType(required=True)
    count = graphene.Int(required=True)


class AftersalesReasonCount(graphene.ObjectType):
    reason = AftersalesReason(required=True)
    units = graphene.Int(required=True, description="Units claimed for this reason.")


class AftersalesProductReturnRate(graphene.ObjectType):
    product_id = graphene.ID(description="The product's ID, if it still exists.")
    product_name = graphene.String(required=True)
    units_sold = graphene.Int(required=True, description="Units fulfilled.")
    units_claimed = graphene.Int(
        required=True, description="Units taken back by returns and exchanges."
    )
    rate_percent = graphene.Float(required=True, description="Claimed per 100 sold.")

    @staticmethod
    def resolve_product_id(root: stats.ProductReturnRate, _info):
        if root.product_id is None:
            return None
        return api.product_global_id(root.product_id)


class AftersalesRefundTotal(graphene.ObjectType):
    method = AftersalesRefundMethod(required=True)
    total = graphene.Field(api.MoneyType, required=True)
    count = graphene.Int(required=True, description="Refunds.")


class AftersalesStats(graphene.ObjectType):
    period_start = graphene.Date(required=True, description="First day (desk's zone).")
    period_end = graphene.Date(required=True, description="Last day, included.")
    claim_count = graphene.Int(required=True, description="Claims opened.")
    by_status = graphene.List(graphene.NonNull(AftersalesStatusCount), required=True)
    by_type = graphene.List(graphene.NonNull(AftersalesTypeCount), required=True)
    by_reason = graphene.List(graphene.NonNull(AftersalesReasonCount), required=True)
    return_rates = graphene.List(
        graphene.NonNull(AftersalesProductReturnRate),
        required=True,
        description="Per product, highest return rate first.",
    )
    refund_totals = graphene.List(
        graphene.NonNull(AftersalesRefundTotal),
        required=True,
        description="Refunds completed in the period, per currency and method.",
    )
    median_first_response_hours = graphene.Float(
        description="In business hours, of claims answered."
    )
    median_resolution_hours = graphene.Float(
        description="In business hours, of claims concluded."
    )
    sla_evaluated_count = graphene.Int(
        required=True,
        description="Claims whose service level is decided (concluded or late).",
    )
    sla_compliance_percent = graphene.Float(
        description="Of those, answered and concluded in time."
    )
    average_rating = graphene.Float(description="Customers' ratings, 1-5.")
    rating_count = graphene.Int(required=True)

    class Meta:
        description = "After-sales figures over a period, computed by the database."

    @staticmethod
    def from_stats(figures: stats.Stats) -> "AftersalesStats":
        return AftersalesStats(
            period_start=figures.period.start,
            period_end=figures.period.end,
            claim_count=figures.claim_count,
            by_status=[
                AftersalesStatusCount(status=status, count=count)
                for status, count in sorted(figures.by_status.items())
            ],
            by_type=[
                AftersalesTypeCount(type=type_, count=count)
                for type_, count in sorted(figures.by_type.items())
            ],
            by_reason=[
                AftersalesReasonCount(reason=reason, units=units)
                for reason, units in sorted(figures.by_reason.items())
            ],
            return_rates=figures.return_rates,
            refund_totals=[
                AftersalesRefundTotal(
                    method=method, total=Money(total, currency), count=count
                )
                for currency, method, total, count in figures.refunds
            ],
            median_first_response_hours=figures.median_first_response_hours,
            median_resolution_hours=figures.median_resolution_hours,
            sla_evaluated_count=figures.sla_evaluated,
            sla_compliance_percent=figures.sla_compliance_percent,
            average_rating=figures.average_rating,
            rating_count=figures.rating_count,
        )


# The analytics page -----------------------------------------------------------------


class AnswerOnlyScalar(graphene.Scalar):
    """A scalar that is only ever answered, never given as input."""

    @staticmethod
    def parse_value(_value):
        return None

    @staticmethod
    def parse_literal(_node):
        return None


class AftersalesDailyNumbers(AnswerOnlyScalar):
    """One number per day of the period, in order: a JSON list of numbers (counts
    whole, amounts decimal). A scalar, so a year of days is written in one step
    rather than one field at a time."""

    @staticmethod
    def serialize(values):
        return [value if isinstance(value, int) else float(value) for value in values]


class AftersalesDays(AnswerOnlyScalar):
    """Every day of the period, in order: a JSON list of ISO dates (a scalar, so a
    year of days is written in one step)."""

    @staticmethod
    def serialize(days):
        return [day.isoformat() for day in days]


class AftersalesTypeSeries(graphene.ObjectType):
    type = AftersalesRequestType(required=True)
    counts = graphene.Field(
        AftersalesDailyNumbers, required=True, description="Claims opened per day."
    )


class AftersalesReasonUnits(graphene.ObjectType):
    reason = AftersalesReason(required=True)
    units = graphene.Int(required=True, description="Units claimed in the period.")
    previous_units = graphene.Int(
        required=True, description="In the period before, as long."
    )


class AftersalesRatingCount(graphene.ObjectType):
    rating = graphene.Int(required=True, description="1-5.")
    count = graphene.Int(required=True)


class AftersalesRefundSeries(graphene.ObjectType):
    currency = graphene.String(required=True)
    method = AftersalesRefundMethod(required=True)
    amounts = graphene.Field(
        AftersalesDailyNumbers, required=True, description="Amount refunded per day."
    )
    counts = graphene.Field(
        AftersalesDailyNumbers, required=True, description="Refunds per day."
    )


class AftersalesWeek(graphene.ObjectType):
    start = graphene.Date(required=True)
    end = graphene.Date(required=True, description="Included; weeks start on Monday.")
    opened = graphene.Int(required=True)
    sla_evaluated = graphene.Int(required=True)
    sla_met = graphene.Int(required=True)
    sla_compliance_percent = graphene.Float()
    median_first_response_hours = graphene.Float()
    median_resolution_hours = graphene.Float()


class AftersalesTargets(graphene.ObjectType):
    first_response_hours = graphene.Float(required=True, description="Business hours.")
    resolution_hours = graphene.Float(
        required=True, description="Business hours (working days × opening hours)."
    )
    sla_compliance_percent = graphene.Float(required=True)


class AftersalesAnalyticsSummary(graphene.ObjectType):
    claim_count = graphene.Int(required=True, description="Claims opened.")
    by_type = graphene.List(graphene.NonNull(AftersalesTypeCount), required=True)
    by_status = graphene.List(graphene.NonNull(AftersalesStatusCount), required=True)
    units_claimed = graphene.Int(required=True)
    sla_evaluated = graphene.Int(
        required=True, description="Concluded, or open and already late."
    )
    sla_met = graphene.Int(required=True)
    sla_compliance_percent = graphene.Float()
    median_first_response_hours = graphene.Float(
        description="Business hours; read within quarter-hour buckets under 4 h, "
        "hours under a day, 6 h under 3 days."
    )
    median_resolution_hours = graphene.Float(description="Business hours, as above.")
    refunds = graphene.List(graphene.NonNull(AftersalesRefundTotal), required=True)
    average_rating = graphene.Float()
    rating_count = graphene.Int(required=True)

    @staticmethod
    def resolve_by_type(root: analytics.Summary, _info):
        return [
            AftersalesTypeCount(type=claim_type, count=count)
            for claim_type, count in sorted(root.by_type.items())
        ]

    @staticmethod
    def resolve_by_status(root: analytics.Summary, _info):
        return [
            AftersalesStatusCount(status=status, count=count)
            for status, count in sorted(root.by_status.items())
        ]

    @staticmethod
    def resolve_refunds(root: analytics.Summary, _info):
        return [
            AftersalesRefundTotal(
                method=method, total=Money(total, currency), count=count
            )
            for currency, method, total, count in root.refunds
        ]


class AftersalesAnalytics(graphene.ObjectType):
    period_start = graphene.Date(required=True, description="First day (desk's zone).")
    period_end = graphene.Date(required=True, description="Last day, included.")
    previous_start = graphene.Date(required=True)
    previous_end = graphene.Date(required=True)
    time_zone = graphene.String(required=True)
    channels = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="Channels with claims in either period; empty where the shop "
        "has none.",
    )
    days = graphene.Field(
        AftersalesDays, required=True, description="The period's days, in order."
    )
    current = graphene.Field(AftersalesAnalyticsSummary, required=True)
    previous = graphene.Field(
        AftersalesAnalyticsSummary,
        required=True,
        description="The period before, as long.",
    )
    opened_per_day = graphene.List(
        graphene.NonNull(AftersalesTypeSeries), required=True
    )
    reasons = graphene.List(
        graphene.NonNull(AftersalesReasonUnits),
        required=True,
        description="Most units first.",
    )
    return_rates = graphene.List(
        graphene.NonNull(AftersalesProductReturnRate),
        required=True,
        description="Per product of orders placed in the period, highest first.",
    )
    weeks = graphene.List(graphene.NonNull(AftersalesWeek), required=True)
    targets = graphene.Field(AftersalesTargets, required=True)
    refunds_per_day = graphene.List(
        graphene.NonNull(AftersalesRefundSeries),
        required=True,
        description="Completed refunds per currency and method.",
    )
    ratings = graphene.List(graphene.NonNull(AftersalesRatingCount), required=True)

    class Meta:
        description = (
            "The analytics page's figures over a period and the one before it, "
            "read from per-day rollups."
        )

    @staticmethod
    def resolve_period_start(root: analytics.Analytics, _info):
        return root.period.start

    @staticmethod
    def resolve_period_end(root: analytics.Analytics, _info):
        return root.period.end

    @staticmethod
    def resolve_previous_start(root: analytics.Analytics, _info):
        return root.previous_period.start

    @staticmethod
    def resolve_previous_end(root: analytics.Analytics, _info):
        return root.previous_period.end

    @staticmethod
    def resolve_opened_per_day(root: analytics.Analytics, _info):
        return [
            AftersalesTypeSeries(type=claim_type, counts=counts)
            for claim_type, counts in root.opened_per_day.items()
        ]

    @staticmethod
    def resolve_reasons(root: analytics.Analytics, _info):
        return [
            AftersalesReasonUnits(reason=reason, units=units, previous_units=before)
            for reason, units, before in root.reasons
        ]

    @staticmethod
    def resolve_refunds_per_day(root: analytics.Analytics, _info):
        return [
            AftersalesRefundSeries(
                currency=currency, method=method, amounts=amounts, counts=counts
            )
            for currency, method, amounts, counts in root.refunds_per_day
        ]

    @staticmethod
    def resolve_ratings(root: analytics.Analytics, _info):
        return [
            AftersalesRatingCount(rating=rating, count=root.current.ratings.get(rating, 0))
            for rating in models.RATINGS
        ]
