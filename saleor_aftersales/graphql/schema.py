"""The plugin's queries and mutations, and the schema that joins them to Saleor's."""

import json

import django_filters
import graphene
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from graphql.error import GraphQLError
from prices import Money

from .. import (
    analytics,
    exports,
    models,
    policies,
    refunds,
    selectors,
    stats,
    throttle,
    warranty,
)
from .host import api
from ..enums import Reason, RefundStatus, RequestType
from ..error_codes import AftersalesErrorCode as Code
from ..configuration import get_settings
from ..orders import save_order
from ..policies import order_eligibility
from .authorize import authorize_order, is_staff_viewer, viewer
from .selection import selected_fields
from .enums import (
    AftersalesReason,
    AftersalesRefundMethod,
    AftersalesRequestStatus,
    AftersalesRequestType,
)
from .fields import FilterInputConnectionField, PrefetchingConnectionField
from .mutations.base import errors_of, get_host_record, get_instance, storable
from .mutations.links import (
    AftersalesOrderLinkRedeem,
    AftersalesOrderLinkSend,
    send_link,
)
from .mutations.policies import (
    AftersalesPolicyDelete,
    AftersalesPolicyUpdate,
    as_graphql,
)
from .mutations.settings import AftersalesSettingsUpdate
from .mutations.settings import shown as shown_settings
from .mutations.staff import (
    AftersalesCustomerEmailResend,
    AftersalesNoteAdd,
    AftersalesRequestApprove,
    AftersalesRequestAssign,
    AftersalesRequestClose,
    AftersalesRequestReceive,
    AftersalesRequestRefund,
    AftersalesRequestReject,
    AftersalesRequestRequestInfo,
    ExchangeRequestFulfill,
    RepairQuoteCreate,
    RepairStatusUpdate,
)
from .mutations.storefront import (
    AftersalesPhotoUpload,
    AftersalesRequestAppeal,
    AftersalesRequestCancel,
    AftersalesRequestProvideInfo,
    AftersalesRequestRate,
    ExchangeRequestCreate,
    RepairQuoteRespond,
    RepairRequestCreate,
    ReturnRequestCreate,
)
from .mutations.warranty import WarrantyCardExtend, WarrantyCardUpdate, WarrantyCardVoid
from .mutations.webhooks import (
    AftersalesWebhookCreate,
    AftersalesWebhookDelete,
    AftersalesWebhookRedeliver,
    AftersalesWebhookUpdate,
)
from .types import (
    AftersalesEligibility,
    AftersalesEligibilityLine,
    AftersalesError,
    AftersalesOrderLookup,
    AftersalesPolicy,
    AftersalesRefundPreview,
    AftersalesSetting,
    AftersalesRequest,
    AftersalesAnalytics,
    AftersalesStats,
    AftersalesWebhook,
    AftersalesWebhookDelivery,
    WarrantyCard,
    WarrantyCardVerification,
    request_relations,
)


def _filter_status(qs, _, value):
    return qs.filter(status__in=value) if value else qs


def _filter_type(qs, _, value):
    return qs.filter(type__in=value) if value else qs


def no_nul(value, name: str):
    """PostgreSQL text can't hold NUL: a query argument with one is refused (the
    mutations refuse it with a code of their own)."""
    if value and ("\x00" in value or not storable(value)):
        raise GraphQLError(
            f"`{name}` must not contain NUL characters or lone surrogates."
        )
    return value


def _filter_search(qs, _, value):
    return selectors.search_requests(qs, value)


def _filter_overdue(qs, _, value):
    if value is None:
        return qs
    late = selectors.overdue(timezone.now())
    return qs.filter(late) if value else qs.exclude(late)


def _filter_created(qs, _, value):
    """Days in the desk's time zone, as aftersalesStats counts them."""
    value = value or {}
    zone = get_settings().business_time_zone
    return qs.filter(stats.created_within(value.get("gte"), value.get("lte"), zone))


def _filter_reason(qs, _, value):
    """Claims with at least one line of one of these reasons."""
    if not value:
        return qs
    return qs.filter(
        Exists(
            models.AftersalesLine.objects.filter(
                request=OuterRef("pk"), reason__in=value
            )
        )
    )


def _filter_channel(qs, value):
    """Claims on orders of that channel ("" is no channel: Saleor 2.10's)."""
    return qs.filter(order__channel=no_nul(value, "channel"))


def _filter_product(qs, value):
    """Claims with a line of the product (its global ID, as aftersalesStats'
    productId gives it). The order copy keeps the host's product reference:
    Saleor 2.10's primary key, or on the app Saleor 3's own global ID, which a
    client may also pass as it is."""
    value = no_nul(value, "product")
    try:
        type_name, key = graphene.Node.from_global_id(value)
    except Exception:
        type_name, key = None, None
    if type_name != "Product" or not key:
        raise GraphQLError(f"`product` must be a Product ID: {value!r}.")
    return qs.filter(
        Exists(
            models.AftersalesLine.objects.filter(
                request=OuterRef("pk"), order_line__product_ref__in={key, value}
            )
        )
    )


RATINGS = range(1, 6)


def _filter_rating(qs, value):
    if any(rating not in RATINGS for rating in value):
        raise GraphQLError("`rating` takes ratings from 1 to 5.")
    return qs.filter(rating__in=value) if value else qs


def _filter_sla_met(qs, value):
    return qs.filter(stats.concluded_against_service_levels(value))


def _successful_refunds(data: dict):
    """The refund condition of ``refunded`` and ``refundMethod``: one refund row
    must meet both (None when neither is given)."""
    days, method = data.get("refunded"), data.get("refund_method")
    if days is None and method is None:
        return None
    refunds = models.AftersalesRefund.objects.filter(
        request=OuterRef("pk"), status=RefundStatus.SUCCESS
    )
    if days is not None:
        zone = get_settings().business_time_zone
        refunds = refunds.filter(
            stats.days_within("completed_at", days.get("gte"), days.get("lte"), zone)
        )
    if method is not None:
        refunds = refunds.filter(method=method)
    return Exists(refunds)


class ExactFilter(api.ObjectTypeFilter):
    """A value handed as it came (an empty string too) to ``apply``; left out
    or null, no filter."""

    def __init__(self, input_class, apply, *args, **kwargs):
        self.apply = apply
        super().__init__(input_class, *args, **kwargs)

    def filter(self, qs, value):
        return qs if value is None else self.apply(qs, value)


class UnfilteredInput(api.ObjectTypeFilter):
    """An input the filter set applies together with another
    (``AftersalesRequestFilter.filter_queryset``)."""

    def filter(self, qs, value):
        return qs


class AftersalesRequestFilter(django_filters.FilterSet):
    status = api.ListObjectTypeFilter(
        input_class=AftersalesRequestStatus, method=_filter_status
    )
    type = api.ListObjectTypeFilter(
        input_class=AftersalesRequestType, method=_filter_type
    )
    search = django_filters.CharFilter(method=_filter_search)
    overdue = django_filters.BooleanFilter(method=_filter_overdue)
    created = api.ObjectTypeFilter(
        input_class=api.DateRangeInput,
        method=_filter_created,
    )
    reason = api.ListObjectTypeFilter(
        input_class=graphene.NonNull(AftersalesReason), method=_filter_reason
    )
    channel = ExactFilter(input_class=graphene.String, apply=_filter_channel)
    product = ExactFilter(input_class=graphene.ID, apply=_filter_product)
    rating = ExactFilter(
        input_class=lambda: graphene.List(graphene.NonNull(graphene.Int)),
        apply=_filter_rating,
    )
    refunded = UnfilteredInput(input_class=api.DateRangeInput)
    refund_method = UnfilteredInput(input_class=AftersalesRefundMethod)
    sla_met = ExactFilter(input_class=graphene.Boolean, apply=_filter_sla_met)

    class Meta:
        model = models.AftersalesRequest
        fields = [
            "status",
            "type",
            "search",
            "created",
            "overdue",
            "reason",
            "channel",
            "product",
            "rating",
            "refunded",
            "refund_method",
            "sla_met",
        ]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        refunds = _successful_refunds(self.form.cleaned_data)
        return queryset if refunds is None else queryset.filter(refunds)


class AftersalesRequestFilterInput(api.FilterInputObjectType):
    class Meta:
        filterset_class = AftersalesRequestFilter


def requests_matching(filter_: dict):
    """The claims a queue filter (its GraphQL input) lets through, newest
    first, as the queue lists them; input the filter refuses is a
    GraphQLError."""
    filterset = AftersalesRequestFilter(
        data=dict(filter_), queryset=models.AftersalesRequest.objects.all()
    )
    if not filterset.is_valid():
        raise GraphQLError(json.dumps(filterset.errors.get_json_data()))
    return filterset.qs.order_by("-pk")


class AftersalesRequestSortField(graphene.Enum):
    NUMBER = ["pk"]
    CREATED_AT = ["created_at", "pk"]
    UPDATED_AT = ["updated_at", "pk"]
    STATUS = ["status", "pk"]
    RESPONSE_DUE_AT = ["sla_response_due_at", "pk"]
    RESOLUTION_DUE_AT = ["sla_resolution_due_at", "pk"]

    @property
    def description(self):
        return f"Sort claims by {self.name.lower().replace('_', ' ')}."


class AftersalesRequestSortingInput(api.SortInputObjectType):
    class Meta:
        sort_enum = AftersalesRequestSortField
        type_name = "claims"


MAX_DAYS = 3 * 366  # a stats period


def checked_period(period, settings) -> stats.Period:
    """A statistics period from a DateRangeInput (default: the last 30 days)."""
    chosen = stats.default_period(settings)
    period = period or {}
    chosen = stats.Period(
        start=period.get("gte") or chosen.start, end=period.get("lte") or chosen.end
    )
    if (
        chosen.end < chosen.start
        or (chosen.end - chosen.start).days > MAX_DAYS
        or chosen.end.year > 9000
    ):
        raise GraphQLError(
            f"Give a period of at most {MAX_DAYS} days, its start before its end."
        )
    return chosen


def refused(result_type, message: str, code: Code, **fields):
    """A query's typed answer carrying one error instead of a result."""
    return result_type(
        errors=[AftersalesError(message=message, code=code.value)], **fields
    )


def aftersales_errors(error: ValidationError) -> list:
    return [
        AftersalesError(field=field, message=message, code=code)
        for field, message, code in errors_of(error)
    ]


def verification_error(message: str, code: Code) -> WarrantyCardVerification:
    return refused(WarrantyCardVerification, message, code, valid=False)


def can_manage_webhooks(info) -> bool:
    user, app = viewer(info)
    return api.has_permission(user, app, api.MANAGE_APPS) and api.has_manage_orders(
        user, app
    )


def _found_or_none(find):
    """The node, None when it doesn't exist; a malformed ID is a GraphQL error."""
    try:
        return find()
    except ValidationError as error:
        (error,) = error.error_dict["id"]
        if error.code == Code.NOT_FOUND.value:
            return None
        raise GraphQLError(error.messages[0])


def lookup(model, global_id, type_name, qs=None):
    return _found_or_none(
        lambda: get_instance(model, global_id, type_name, "id", qs=qs)
    )


def lookup_host_record(type_name: str, global_id: str):
    return _found_or_none(lambda: get_host_record(type_name, global_id, "id"))


class AftersalesQueries(graphene.ObjectType):
    aftersales_eligibility = graphene.Field(
        AftersalesEligibility,
        order=graphene.Argument(graphene.ID, description="ID of the order."),
        order_token=graphene.Argument(graphene.UUID, description="The order's token."),
        description="What of an order can be returned or exchanged, and until when.",
    )
    aftersales_request = graphene.Field(
        AftersalesRequest,
        id=graphene.Argument(
            graphene.ID, required=True, description="ID of the claim."
        ),
        order_token=graphene.Argument(graphene.UUID, description="The order's token."),
        description="One claim: for staff, its customer, or a guest with the token.",
    )
    my_aftersales_requests = PrefetchingConnectionField(
        AftersalesRequest, description="The signed-in customer's claims, newest first."
    )
    aftersales_requests = FilterInputConnectionField(
        AftersalesRequest,
        filter=AftersalesRequestFilterInput(description="Filtering options."),
        sort_by=AftersalesRequestSortingInput(description="Sort claims."),
        description="All claims (MANAGE_ORDERS).",
    )

    warranty_card_verify = graphene.Field(
        graphene.NonNull(WarrantyCardVerification),
        code=graphene.Argument(graphene.String, required=True, description="The code."),
        meter_reading=graphene.Argument(
            graphene.Int, description="Odometer km or operating hours, if it has one."
        ),
        description="Check a warranty card: public, throttled per client.",
    )
    my_warranty_cards = PrefetchingConnectionField(
        WarrantyCard, description="The signed-in customer's warranty cards."
    )
    warranty_cards = PrefetchingConnectionField(
        WarrantyCard,
        code=graphene.Argument(graphene.String, description="A card's code."),
        order=graphene.Argument(graphene.ID, description="Cards of an order."),
        serial_number=graphene.Argument(graphene.String, description="Serial/VIN."),
        description="Warranty cards (MANAGE_ORDERS).",
    )

    service_history = graphene.List(
        graphene.NonNull(AftersalesRequest),
        required=True,
        serial_number=graphene.Argument(
            graphene.String, required=True, description="Serial number or VIN."
        ),
        description="Every claim and repair of one unit, oldest first (MANAGE_ORDERS).",
    )

    aftersales_order_lookup = graphene.Field(
        graphene.NonNull(AftersalesOrderLookup),
        number=graphene.Argument(graphene.String, required=True),
        email=graphene.Argument(graphene.String, required=True),
        description="Deprecated: use aftersalesOrderLinkSend. Does the same (e-mails "
        "a guest order a one-time sign-in link; throttled per client and per "
        "e-mail) and never returns the order's token: orderToken and orderNumber "
        "are null.",
    )
    aftersales_refund_preview = graphene.Field(
        graphene.NonNull(AftersalesRefundPreview),
        id=graphene.Argument(graphene.ID, required=True),
        include_shipping=graphene.Argument(graphene.Boolean),
        restocking_fee=graphene.Argument(api.DecimalScalar),
        description="The amounts a refund of the claim would pay now (MANAGE_ORDERS).",
    )
    aftersales_stats = graphene.Field(
        graphene.NonNull(AftersalesStats),
        period=api.DateRangeInput(
            description="Days of claims counted (desk's time zone); default: the "
            "last 30."
        ),
        top_products=graphene.Int(
            description="How many products to rank by return rate (1-100, default 20)."
        ),
        description="After-sales figures over a period (MANAGE_ORDERS).",
    )
    aftersales_analytics = graphene.Field(
        graphene.NonNull(AftersalesAnalytics),
        period=api.DateRangeInput(
            description="Days of claims (desk's time zone); default: the last 30."
        ),
        types=graphene.List(
            graphene.NonNull(AftersalesRequestType),
            description="Claim types counted; default: all.",
        ),
        channel=graphene.String(
            description="Only claims on orders of this channel (Saleor 3's slug)."
        ),
        top_products=graphene.Int(
            description="How many products to rank by return rate (1-100, default 10)."
        ),
        description="The analytics page: a period beside the one before it, per "
        "day and per week (MANAGE_ORDERS).",
    )
    aftersales_export_url = graphene.String(
        required=True,
        filter=AftersalesRequestFilterInput(
            description="The queue's filter: the file holds the claims it lists."
        ),
        description="A link to a CSV file of every claim the filter lets through, "
        "newest first; signed, valid 10 minutes (MANAGE_ORDERS).",
    )
    aftersales_settings = graphene.List(
        graphene.NonNull(AftersalesSetting),
        required=True,
        description="The shop's after-sales settings; secrets only say whether "
        "they are set (MANAGE_ORDERS).",
    )
    aftersales_policies = graphene.List(
        graphene.NonNull(AftersalesPolicy),
        required=True,
        description=(
            "The shop's after-sales terms, then each product type's own "
            "(MANAGE_ORDERS)."
        ),
    )

    aftersales_webhooks = PrefetchingConnectionField(
        AftersalesWebhook, description="Webhook subscriptions (MANAGE_APPS)."
    )
    aftersales_webhook_deliveries = PrefetchingConnectionField(
        AftersalesWebhookDelivery,
        status=graphene.Argument(
            graphene.String, description="pending, delivered or failed."
        ),
        description="The outbox, newest first (MANAGE_APPS).",
    )

    def resolve_aftersales_order_lookup(self, info, number, email):
        no_nul(number, "number"), no_nul(email, "email")
        try:
            send_link(info, number, email)
        except ValidationError as error:
            return AftersalesOrderLookup(errors=aftersales_errors(error))
        return AftersalesOrderLookup(order_token=None, order_number=None, errors=[])

    def resolve_aftersales_refund_preview(
        self, info, id, include_shipping=None, restocking_fee=None
    ):
        if not is_staff_viewer(info):
            raise api.PermissionDenied()
        request = lookup(
            models.AftersalesRequest,
            id,
            "AftersalesRequest",
            qs=models.AftersalesRequest.objects.select_related("order"),
        )
        if request is None:
            raise GraphQLError(f"Couldn't resolve to a claim: {id}")
        try:
            offer, refusal = refunds.preview(
                request, get_settings(), include_shipping, restocking_fee
            )
        except ValidationError as error:
            return AftersalesRefundPreview(errors=aftersales_errors(error))
        quote = offer.quote
        money = lambda amount: Money(amount, request.currency)  # noqa: E731
        return AftersalesRefundPreview(
            goods=money(quote.goods_amount),
            restocking_fee=money(quote.restocking_fee_amount),
            shipping=money(quote.shipping_amount),
            amount=money(max(quote.default_amount, 0)),
            maximum=money(max(offer.maximum_amount, 0)),
            # What a refund without an amount would be refused with.
            errors=aftersales_errors(refusal) if refusal else [],
        )

    def resolve_aftersales_stats(self, info, period=None, top_products=None):
        if not is_staff_viewer(info):
            raise api.PermissionDenied()
        top_products = 20 if top_products is None else top_products
        settings = get_settings()
        chosen = checked_period(period, settings)
        if not 1 <= top_products <= 100:
            raise GraphQLError("topProducts must be 1-100.")
        return AftersalesStats.from_stats(stats.compute(chosen, settings, top_products))

    def resolve_aftersales_analytics(
        self, info, period=None, types=None, channel=None, top_products=None
    ):
        if not is_staff_viewer(info):
            raise api.PermissionDenied()
        top_products = 10 if top_products is None else top_products
        if not 1 <= top_products <= 100:
            raise GraphQLError("topProducts must be 1-100.")
        if channel is not None:
            no_nul(channel, "channel")
            if len(channel) > 64:
                raise GraphQLError("channel is at most 64 characters.")
        settings = get_settings()
        chosen = checked_period(period, settings)
        if chosen.start.year < 1000:  # the period before must still be a date
            raise GraphQLError("Give a period after the year 1000.")
        filters = analytics.Filters(
            types=tuple(sorted(set(types))) if types else analytics.TYPES,
            channel=channel,
        )
        return analytics.compute(chosen, settings, filters, top_products)

    def resolve_aftersales_export_url(self, info, filter=None):
        if not is_staff_viewer(info):
            raise api.PermissionDenied()
        filter_ = dict(filter or {})
        requests_matching(filter_)  # refuses what the queue would refuse
        token = exports.signed_token(filter_)
        return info.context.build_absolute_uri(
            reverse("aftersales-claims-export", kwargs={"token": token})
        )

    def resolve_aftersales_settings(self, info):
        if not is_staff_viewer(info):
            raise api.PermissionDenied()
        return shown_settings()

    def resolve_aftersales_policies(self, info):
        if not is_staff_viewer(info):
            raise api.PermissionDenied()
        terms = policies.all_terms(get_settings())
        # Terms of product types the shop deleted since are not shown.
        types = api.product_types_by_ref(t.product_type_ref for t in terms)
        return [
            as_graphql(t, types.get(t.product_type_ref))
            for t in terms
            if not t.product_type_ref or t.product_type_ref in types
        ]

    def resolve_aftersales_webhooks(self, info, **_kwargs):
        if not can_manage_webhooks(info):
            raise api.PermissionDenied()
        return models.WebhookSubscription.objects.all()

    def resolve_aftersales_webhook_deliveries(self, info, status=None, **_kwargs):
        if not can_manage_webhooks(info):
            raise api.PermissionDenied()
        deliveries = models.WebhookDelivery.objects.select_related("subscription")
        if status:
            deliveries = deliveries.filter(status=no_nul(status, "status"))
        return deliveries.order_by("-pk")

    def resolve_service_history(self, info, serial_number):
        if not is_staff_viewer(info):
            raise api.PermissionDenied()
        return selectors.service_history(no_nul(serial_number, "serialNumber"))

    def resolve_warranty_card_verify(self, info, code, meter_reading=None):
        no_nul(code, "code")
        settings = get_settings()
        client = throttle.client_id(info.context)
        if not throttle.allow(
            throttle.WARRANTY_VERIFY, client, settings.verifications_per_minute
        ):
            return verification_error(
                "Too many checks; try again in a minute.", Code.THROTTLED
            )
        try:
            card = warranty.card_by_code(code)
        except ValidationError as error:
            (error,) = error.error_dict["code"]
            return verification_error(error.messages[0], Code(error.code))
        now = timezone.now()
        ended_by = card.ended_by(now, meter_reading)
        return WarrantyCardVerification(
            code=warranty.display_code(card.code),
            valid=ended_by is None,
            status=card.status_at(now),
            ended_by=ended_by,
            product_name=card.product_name,
            variant_name=card.variant_name,
            variant_sku=card.variant_sku,
            starts_at=card.starts_at,
            ends_at=card.ends_at,
            usage_limit=card.usage_limit,
            usage_unit=card.usage_unit or None,
            errors=[],
        )

    def resolve_my_warranty_cards(self, info, **_kwargs):
        user, _app = viewer(info)
        if user is None:
            raise api.PermissionDenied()
        return selectors.warranty_cards().filter(order__customer_ref=api.user_ref(user))

    def resolve_warranty_cards(
        self, info, code=None, order=None, serial_number=None, **_
    ):
        if not is_staff_viewer(info):
            raise api.PermissionDenied()
        cards = selectors.warranty_cards()
        if code:
            cards = cards.filter(code=warranty.parse_code(no_nul(code, "code")) or "-")
        if order:
            found = lookup_host_record("Order", order)
            cards = (
                cards.filter(order__host_id=api.ref(found.pk))
                if found
                else cards.none()
            )
        if serial_number:
            serial_number = no_nul(serial_number, "serialNumber").strip().upper()
            cards = cards.filter(serial_number=serial_number)
        return cards

    def resolve_aftersales_eligibility(self, info, order=None, order_token=None):
        if order:
            order = lookup_host_record("Order", order)
        elif order_token:
            order = api.order_by_token(str(order_token))
        if order is None:
            raise api.PermissionDenied()
        facts = api.order_facts(order)
        authorize_order(info, facts, order_token)
        settings = get_settings()
        copy = save_order(facts)
        lines = order_eligibility(copy, settings)
        cards = (
            selectors.warranty_cards_by_line(copy)
            if "warrantyCards" in selected_fields(info, "lines")
            else {}
        )
        now = timezone.now()
        return AftersalesEligibility(
            order=copy,
            host_order=order,
            lines=[
                AftersalesEligibilityLine(
                    order_line=line.order_line,
                    quantity_fulfilled=line.quantity_fulfilled,
                    quantity_in_claims=line.quantity_claimed,
                    returnable_quantity=line.returnable_quantity(now),
                    exchangeable_quantity=line.claimable_quantity(
                        RequestType.EXCHANGE, now
                    ),
                    return_deadline=line.return_deadline,
                    changed_mind_deadline=line.changed_mind_deadline,
                    exchange_deadline=line.exchange_deadline,
                    final_sale=line.policy.final_sale,
                    ineligible_reason=line.refusal(
                        RequestType.RETURN, Reason.DEFECTIVE, now
                    ),
                    restocking_fee_percent=line.policy.restocking_fee_percent,
                    warranty_cards=cards.get(line.order_line.pk, []),
                )
                for line in lines
            ],
            is_returnable=any(line.returnable_quantity(now) for line in lines),
            requests=selectors.requests_for_api(
                request_relations(info, "requests")
            ).filter(order=copy),
        )

    def resolve_aftersales_request(self, info, id, order_token=None):
        request = lookup(
            models.AftersalesRequest,
            id,
            "AftersalesRequest",
            qs=selectors.requests_for_api(request_relations(info)),
        )
        if request is None:
            # Refused like someone else's claim (as Saleor's order(id) refuses
            # strangers), so claim ids can't be counted; staff just get null.
            if not is_staff_viewer(info):
                raise api.PermissionDenied()
            return None
        authorize_order(info, request.order, order_token)
        return request

    def resolve_my_aftersales_requests(self, info, **_kwargs):
        user, _app = viewer(info)
        if user is None:
            raise api.PermissionDenied()
        return selectors.requests_of_customer(
            api.user_ref(user), request_relations(info, "edges", "node")
        )

    def resolve_aftersales_requests(self, info, **_kwargs):
        if not is_staff_viewer(info):
            raise api.PermissionDenied()
        return selectors.requests_for_api(request_relations(info, "edges", "node"))


class AftersalesMutations(graphene.ObjectType):
    return_request_create = ReturnRequestCreate.Field()
    exchange_request_create = ExchangeRequestCreate.Field()
    repair_request_create = RepairRequestCreate.Field()
    repair_quote_respond = RepairQuoteRespond.Field()
    aftersales_request_rate = AftersalesRequestRate.Field()
    aftersales_request_cancel = AftersalesRequestCancel.Field()
    aftersales_request_appeal = AftersalesRequestAppeal.Field()
    aftersales_request_provide_info = AftersalesRequestProvideInfo.Field()
    aftersales_photo_upload = AftersalesPhotoUpload.Field()
    aftersales_order_link_send = AftersalesOrderLinkSend.Field()
    aftersales_order_link_redeem = AftersalesOrderLinkRedeem.Field()

    aftersales_request_approve = AftersalesRequestApprove.Field()
    aftersales_request_reject = AftersalesRequestReject.Field()
    aftersales_request_request_info = AftersalesRequestRequestInfo.Field()
    aftersales_request_receive = AftersalesRequestReceive.Field()
    aftersales_request_refund = AftersalesRequestRefund.Field()
    aftersales_request_close = AftersalesRequestClose.Field()
    aftersales_request_assign = AftersalesRequestAssign.Field()
    aftersales_note_add = AftersalesNoteAdd.Field()
    aftersales_settings_update = AftersalesSettingsUpdate.Field()
    aftersales_customer_email_resend = AftersalesCustomerEmailResend.Field()
    exchange_request_fulfill = ExchangeRequestFulfill.Field()
    repair_quote_create = RepairQuoteCreate.Field()
    repair_status_update = RepairStatusUpdate.Field()

    warranty_card_extend = WarrantyCardExtend.Field()
    warranty_card_void = WarrantyCardVoid.Field()
    warranty_card_update = WarrantyCardUpdate.Field()

    aftersales_policy_update = AftersalesPolicyUpdate.Field()
    aftersales_policy_delete = AftersalesPolicyDelete.Field()

    aftersales_webhook_create = AftersalesWebhookCreate.Field()
    aftersales_webhook_update = AftersalesWebhookUpdate.Field()
    aftersales_webhook_delete = AftersalesWebhookDelete.Field()
    aftersales_webhook_redeliver = AftersalesWebhookRedeliver.Field()


class Query(AftersalesQueries, api.SaleorQuery):
    pass


class Mutation(AftersalesMutations, api.SaleorMutation):
    pass


schema = api.build_schema(Query, mutation=Mutation)
