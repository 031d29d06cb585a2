"""Return policies per product type: windows, final sale, fees, returnless refunds,
shipping, and the audited override."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from saleor.order.models import Fulfillment

from demo import shop
from saleor_aftersales import policies
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import (
    AftersalesEvent,
    AftersalesRequest,
    ReturnPolicy,
    WarrantyPolicy,
)

from .conftest import (
    assert_permission_denied,
    configure,
    create_return,
    db_state,
    gid,
    line_input,
)
from .queries import (
    APPROVE,
    ELIGIBILITY,
    ERRORS,
    EXCHANGE_REQUEST_CREATE,
    RECEIVE,
    REFUND,
    REPAIR_REQUEST_CREATE,
    REQUEST,
    RETURN_REQUEST_CREATE,
)

POLICY_FIELDS = """
    productType { id } finalSale returnWindowDays changedMindWindowDays
    exchangeWindowDays restockingFeePercent returnlessRefundBelow shippingRefundable
    warrantyMonths
"""
POLICY_UPDATE = f"""
mutation Update($type: ID!, $input: AftersalesPolicyInput!) {{
  aftersalesPolicyUpdate(productType: $type, input: $input) {{
    policy {{ {POLICY_FIELDS} }}
    {ERRORS}
  }}
}}
"""
POLICY_DELETE = f"""
mutation Delete($type: ID!) {{
  aftersalesPolicyDelete(productType: $type) {{ policy {{ {POLICY_FIELDS} }} {ERRORS} }}
}}
"""
POLICIES = f"query {{ aftersalesPolicies {{ {POLICY_FIELDS} }} }}"
FULL_ELIGIBILITY = ELIGIBILITY.replace(
    "returnDeadline changedMindDeadline exchangeDeadline",
    "returnDeadline changedMindDeadline exchangeDeadline exchangeableQuantity "
    "finalSale ineligibleReason restockingFeePercent",
)
APPROVE_OVERRIDE = APPROVE.replace("$note: String", "$note: String, $override: Boolean")
APPROVE_OVERRIDE = APPROVE_OVERRIDE.replace(
    "note: $note", "note: $note, overridePolicy: $override"
)


@pytest.fixture
def final_sale_variant(warehouse):
    (variant,) = shop.make_variants(1, warehouse, price=Decimal("40.00"))
    policies.save_policy(
        host.ref(variant.product.product_type_id), {"final_sale": True}
    )
    return variant


@pytest.fixture
def mixed_order(customer, staff_user, warehouse, variants, final_sale_variant):
    """2 x 25.00 (shop terms) + 1 x 40.00 (final sale) + 5.00 shipping."""
    return shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variants[0], 2), (final_sale_variant, 1)]
    )


def lines_of(order):
    return list(order.lines.order_by("pk"))


def age(order, days):
    Fulfillment.objects.filter(order=order).update(
        created=Fulfillment.objects.get(order=order).created - timedelta(days=days)
    )


def eligibility(api, order):
    return {
        line["orderLine"]["id"]: line
        for line in api.data(FULL_ELIGIBILITY, {"order": gid("Order", order.pk)})[
            "aftersalesEligibility"
        ]["lines"]
    }


def refused_create(api, order, document, mutation, lines, code):
    before = db_state(order)
    content = api.post(
        document, {"input": {"order": gid("Order", order.pk), "lines": lines}}
    )
    errors = content["data"][mutation]["errors"]
    assert [error["code"] for error in errors] == [code], errors
    assert db_state(order) == before
    return errors[0]


def test_final_sale_lines_are_explained_and_refused_for_return_and_exchange(
    customer_api, mixed_order, variants
):
    normal, final = lines_of(mixed_order)
    lines = eligibility(customer_api, mixed_order)
    assert lines[gid("OrderLine", final.pk)]["finalSale"] is True
    assert lines[gid("OrderLine", final.pk)]["returnableQuantity"] == 0
    assert lines[gid("OrderLine", final.pk)]["exchangeableQuantity"] == 0
    assert lines[gid("OrderLine", final.pk)]["ineligibleReason"] == "FINAL_SALE"
    assert lines[gid("OrderLine", normal.pk)]["ineligibleReason"] is None
    assert lines[gid("OrderLine", normal.pk)]["returnableQuantity"] == 2

    error = refused_create(
        customer_api,
        mixed_order,
        RETURN_REQUEST_CREATE,
        "returnRequestCreate",
        [line_input(final, 1)],
        "FINAL_SALE",
    )
    assert "final sale" in error["message"]
    exchange = line_input(final, 1)
    exchange["replacementVariant"] = gid("ProductVariant", final.variant_id)
    refused_create(
        customer_api,
        mixed_order,
        EXCHANGE_REQUEST_CREATE,
        "exchangeRequestCreate",
        [exchange],
        "FINAL_SALE",
    )
    # A repair is not a return: warranty decides who pays.
    repair = customer_api.data(
        REPAIR_REQUEST_CREATE,
        {
            "input": {
                "order": gid("Order", mixed_order.pk),
                "lines": [line_input(final, 1)],
            }
        },
    )["repairRequestCreate"]
    assert repair["errors"] == []


def test_windows_follow_the_product_types_policy(
    customer_api, staff_api, mixed_order, variants
):
    normal, _final = lines_of(mixed_order)
    product_type = variants[0].product.product_type
    staff_api.data(
        POLICY_UPDATE,
        {
            "type": gid("ProductType", product_type.pk),
            "input": {
                "returnWindowDays": 60,
                "changedMindWindowDays": 7,
                "exchangeWindowDays": 5,
            },
        },
    )
    age(mixed_order, 45)  # the shop's 30 days would have closed
    line = eligibility(customer_api, mixed_order)[gid("OrderLine", normal.pk)]
    assert line["returnableQuantity"] == 2
    assert line["exchangeableQuantity"] == 0
    fulfilled = Fulfillment.objects.get(order=mixed_order).created
    assert line["returnDeadline"].startswith(str((fulfilled + timedelta(60)).date()))
    assert line["exchangeDeadline"].startswith(str((fulfilled + timedelta(5)).date()))
    refused_create(
        customer_api,
        mixed_order,
        RETURN_REQUEST_CREATE,
        "returnRequestCreate",
        [line_input(normal, 1, "CHANGED_MIND")],
        "OUTSIDE_WINDOW",
    )
    exchange = line_input(normal, 1)
    exchange["replacementVariant"] = gid("ProductVariant", variants[1].pk)
    refused_create(
        customer_api,
        mixed_order,
        EXCHANGE_REQUEST_CREATE,
        "exchangeRequestCreate",
        [exchange],
        "OUTSIDE_WINDOW",
    )
    payload = create_return(customer_api, mixed_order, [line_input(normal, 2)])
    assert payload["errors"] == []

    age(mixed_order, 20)  # 65 days
    line = eligibility(customer_api, mixed_order)[gid("OrderLine", normal.pk)]
    assert line["returnableQuantity"] == 0
    assert line["ineligibleReason"] == "WINDOW_CLOSED"


def test_restocking_fee_comes_from_each_lines_policy(
    customer_api, staff_api, customer, staff_user, warehouse, variants
):
    (other,) = shop.make_variants(1, warehouse, price=Decimal("40.00"))
    policies.save_policy(
        host.ref(variants[0].product.product_type_id),
        {"restocking_fee_percent": Decimal("10")},
    )
    order = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variants[0], 2), (other, 1)]
    )
    first, second = lines_of(order)
    claim = create_return(
        customer_api,
        order,
        [line_input(first, 2, "CHANGED_MIND"), line_input(second, 1, "CHANGED_MIND")],
    )["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    result = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
    # 10 % of 50.00 on the first line; the shop's 0 % on the second.
    assert result["refund"]["restockingFee"] == {"amount": 5.0}
    assert result["refund"]["amount"]["amount"] == 85.0


def test_shipping_is_refunded_only_if_every_lines_policy_allows_it(
    customer_api, staff_api, customer, staff_user, warehouse, variants
):
    (other,) = shop.make_variants(1, warehouse, price=Decimal("40.00"))
    policies.save_policy(
        host.ref(variants[0].product.product_type_id), {"shipping_refundable": True}
    )
    order = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variants[0], 1), (other, 1)]
    )
    first, second = lines_of(order)
    mixed = create_return(
        customer_api, order, [line_input(first, 1), line_input(second, 1)]
    )["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": mixed["id"]})
    refused = staff_api.data(REFUND, {"id": mixed["id"], "includeShipping": True})[
        "aftersalesRequestRefund"
    ]
    assert refused["errors"][0]["code"] == "SHIPPING_NOT_REFUNDABLE"
    # The line whose policy refunds shipping, alone: shipping comes back by default.
    staff_api.data(
        "mutation C($id: ID!) { aftersalesRequestCancel(id: $id) { errors { code } } }",
        {"id": mixed["id"]},
    )
    alone = create_return(customer_api, order, [line_input(first, 1)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": alone["id"]})
    paid = staff_api.data(REFUND, {"id": alone["id"]})["aftersalesRequestRefund"]
    assert paid["refund"]["shipping"]["amount"] > 0
    assert (
        paid["refund"]["amount"]["amount"]
        == 25.0 + paid["refund"]["shipping"]["amount"]
    )


def test_returns_below_the_threshold_are_refunded_on_approval_without_coming_back(
    customer_api, staff_api, order, variants
):
    policies.save_policy(
        host.ref(variants[0].product.product_type_id),
        {"returnless_refund_below": Decimal("30")},
    )
    first, second = lines_of(order)
    cheap = create_return(customer_api, order, [line_input(first, 1)])[
        "aftersalesRequest"
    ]
    dear = create_return(
        customer_api, order, [line_input(first, 1), line_input(second, 1)]
    )["aftersalesRequest"]
    payment = order.payments.get()
    captured = payment.captured_amount

    approved = staff_api.data(
        APPROVE.replace("status", "status returnless", 1), {"id": cheap["id"]}
    )["aftersalesRequestApprove"]["aftersalesRequest"]
    assert approved["returnless"] is True
    assert approved["status"] == "RESOLVED"
    assert approved["refunds"][0]["status"] == "SUCCESS"
    assert approved["refunds"][0]["amount"]["amount"] == 25.0
    assert approved["lines"][0]["quantityReceived"] == 0  # nothing came back
    payment.refresh_from_db()
    assert payment.captured_amount == captured - Decimal("25.00")

    # 50.00 is not below 30.00: the goods come back first.
    approved = staff_api.data(
        APPROVE.replace("status", "status returnless", 1), {"id": dear["id"]}
    )["aftersalesRequestApprove"]["aftersalesRequest"]
    assert approved["returnless"] is False
    assert approved["status"] == "APPROVED"
    assert approved["refunds"] == []


def test_staff_open_claims_outside_policy_and_approve_only_with_an_override(
    staff_api, customer_api, mixed_order
):
    _normal, final = lines_of(mixed_order)
    claim = create_return(staff_api, mixed_order, [line_input(final, 1)])[
        "aftersalesRequest"
    ]
    seen = staff_api.data(
        REQUEST.replace("quantityRefunded", "quantityRefunded policyException"),
        {"id": claim["id"]},
    )["aftersalesRequest"]
    assert seen["lines"][0]["policyException"] == "FINAL_SALE"

    before = db_state(mixed_order)
    refused = staff_api.data(APPROVE_OVERRIDE, {"id": claim["id"]})[
        "aftersalesRequestApprove"
    ]
    assert refused["errors"][0]["code"] == "POLICY_OVERRIDE_REQUIRED"
    assert refused["errors"][0]["field"] == "overridePolicy"
    assert db_state(mixed_order) == before

    approved = staff_api.data(
        APPROVE_OVERRIDE,
        {"id": claim["id"], "override": True, "note": "Loyal customer"},
    )["aftersalesRequestApprove"]
    assert approved["errors"] == []
    events = approved["aftersalesRequest"]["events"]
    assert [e["type"] for e in events][-2:] == ["POLICY_OVERRIDDEN", "APPROVED"]
    event = AftersalesEvent.objects.get(type="policy_overridden")
    assert event.parameters == {
        "lines": {str(AftersalesRequest.objects.get().lines.get().pk): "final_sale"}
    }
    assert host.user_by_ref(event.user_ref).email == "staff@example.com"
    mine = customer_api.data(REQUEST, {"id": claim["id"]})["aftersalesRequest"]
    assert "POLICY_OVERRIDDEN" not in [e["type"] for e in mine["events"]]


def test_a_claim_approved_against_the_policy_is_never_returnless(
    staff_api, mixed_order, final_sale_variant
):
    policies.save_policy(
        host.ref(final_sale_variant.product.product_type_id),
        {"returnless_refund_below": Decimal("100")},
    )
    _normal, final = lines_of(mixed_order)
    claim = create_return(staff_api, mixed_order, [line_input(final, 1)])[
        "aftersalesRequest"
    ]
    approved = staff_api.data(APPROVE_OVERRIDE, {"id": claim["id"], "override": True})[
        "aftersalesRequestApprove"
    ]["aftersalesRequest"]
    assert approved["status"] == "APPROVED"
    assert approved["refunds"] == []
    assert AftersalesRequest.objects.get().returnless is False


def test_customers_claims_never_carry_a_policy_exception(customer_api, order):
    claim = create_return(customer_api, order, [line_input(lines_of(order)[0], 1)])
    assert claim["errors"] == []
    assert AftersalesRequest.objects.get().lines.get().policy_exception == ""


# Managing policies -----------------------------------------------------------------


def test_staff_set_read_and_reset_a_product_types_terms(staff_api, variants):
    configure(**{"Return window days": "21"})
    type_id = gid("ProductType", variants[0].product.product_type_id)
    result = staff_api.data(
        POLICY_UPDATE,
        {
            "type": type_id,
            "input": {
                "finalSale": False,
                "changedMindWindowDays": 0,
                "restockingFeePercent": "12.5",
                "returnlessRefundBelow": "15.00",
                "warrantyMonths": 24,
            },
        },
    )["aftersalesPolicyUpdate"]
    assert result["errors"] == []
    assert result["policy"] == {
        "productType": {"id": type_id},
        "finalSale": False,
        "returnWindowDays": 21,  # the shop's, still
        "changedMindWindowDays": 0,
        "exchangeWindowDays": 30,
        "restockingFeePercent": 12.5,
        "returnlessRefundBelow": 15.0,
        "shippingRefundable": False,
        "warrantyMonths": 24,
    }
    assert WarrantyPolicy.objects.get().months == 24

    listed = staff_api.data(POLICIES)["aftersalesPolicies"]
    assert [row["productType"] for row in listed] == [None, {"id": type_id}]
    assert listed[0]["returnWindowDays"] == 21
    assert listed[0]["warrantyMonths"] == 12

    # null puts one field back on the shop's setting; the others stay.
    partly = staff_api.data(
        POLICY_UPDATE, {"type": type_id, "input": {"restockingFeePercent": None}}
    )["aftersalesPolicyUpdate"]["policy"]
    assert partly["restockingFeePercent"] == 0
    assert partly["returnlessRefundBelow"] == 15.0
    assert ReturnPolicy.objects.get().restocking_fee_percent is None

    reset = staff_api.data(POLICY_DELETE, {"type": type_id})["aftersalesPolicyDelete"]
    assert reset["policy"]["returnlessRefundBelow"] == 0
    assert reset["policy"]["warrantyMonths"] == 24  # warranty terms stay
    assert not ReturnPolicy.objects.exists()


@pytest.mark.parametrize(
    "values, field",
    [
        ({"returnWindowDays": -1}, "returnWindowDays"),
        ({"exchangeWindowDays": 5000}, "exchangeWindowDays"),
        ({"restockingFeePercent": "100.5"}, "restockingFeePercent"),
        ({"restockingFeePercent": "NaN"}, "restockingFeePercent"),
        ({"returnlessRefundBelow": "0.001"}, "returnlessRefundBelow"),
        ({"returnlessRefundBelow": "-5"}, "returnlessRefundBelow"),
        ({"finalSale": True, "warrantyMonths": 601}, "warrantyMonths"),
    ],
)
def test_bad_terms_are_refused_and_change_nothing(staff_api, variants, values, field):
    type_id = gid("ProductType", variants[0].product.product_type_id)
    result = staff_api.data(POLICY_UPDATE, {"type": type_id, "input": values})[
        "aftersalesPolicyUpdate"
    ]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, "INVALID")]
    assert not ReturnPolicy.objects.exists()
    assert not WarrantyPolicy.objects.exists()


def test_unknown_product_type_is_not_found(staff_api):
    result = staff_api.data(
        POLICY_UPDATE,
        {"type": gid("ProductType", 999999), "input": {"finalSale": True}},
    )["aftersalesPolicyUpdate"]
    assert result["errors"][0]["code"] == "NOT_FOUND"
    for product_type, code in (
        (gid("ProductType", 999999), "NOT_FOUND"),
        (gid("Order", 1), "GRAPHQL_ERROR"),
        ("garbage", "GRAPHQL_ERROR"),
    ):
        deleted = staff_api.data(POLICY_DELETE, {"type": product_type})[
            "aftersalesPolicyDelete"
        ]
        assert [(e["field"], e["code"]) for e in deleted["errors"]] == [
            ("productType", code)
        ]


def test_strangers_cannot_read_or_change_policies(
    customer_api, intern_api, anonymous_api, variants
):
    type_id = gid("ProductType", variants[0].product.product_type_id)
    for api in (customer_api, intern_api, anonymous_api):
        assert_permission_denied(api.post(POLICIES))
        assert_permission_denied(
            api.post(POLICY_UPDATE, {"type": type_id, "input": {"finalSale": True}})
        )
        assert_permission_denied(api.post(POLICY_DELETE, {"type": type_id}))
    assert not ReturnPolicy.objects.exists()


# Usage-limited warranty terms ("24 months or 40,000 km") --------------------------

USAGE_FIELDS = "warrantyMonths warrantyUsageLimit warrantyUsageUnit"
USAGE_UPDATE = POLICY_UPDATE.replace("warrantyMonths", USAGE_FIELDS, 1)
USAGE_POLICIES = POLICIES.replace("warrantyMonths", USAGE_FIELDS, 1)
VERIFY_USAGE = """
query Verify($code: String!, $meter: Int) {
  warrantyCardVerify(code: $code, meterReading: $meter) {
    valid usageLimit usageUnit endedBy errors { code }
  }
}
"""


def test_staff_set_a_usage_limit_and_cards_issued_afterwards_carry_it(
    staff_api, anonymous_api, customer, staff_user, warehouse, variants
):
    from saleor_aftersales.models import WarrantyCard
    from saleor_aftersales.warranty import display_code

    product_type = variants[0].product.product_type
    type_id = gid("ProductType", product_type.pk)
    before = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variants[0], 1)]
    )
    result = staff_api.data(
        USAGE_UPDATE,
        {
            "type": type_id,
            "input": {
                "warrantyMonths": 24,
                "warrantyUsageLimit": 40000,
                "warrantyUsageUnit": "KM",
            },
        },
    )["aftersalesPolicyUpdate"]
    assert result["errors"] == []
    assert (
        result["policy"]["warrantyMonths"],
        result["policy"]["warrantyUsageLimit"],
        result["policy"]["warrantyUsageUnit"],
    ) == (24, 40000, "KM")
    listed = staff_api.data(USAGE_POLICIES)["aftersalesPolicies"]
    assert [
        (row["productType"], row["warrantyUsageLimit"], row["warrantyUsageUnit"])
        for row in listed
    ] == [(None, None, None), ({"id": type_id}, 40000, "KM")]
    assert WarrantyPolicy.objects.values_list(
        "months", "usage_limit", "usage_unit"
    ).get() == (24, 40000, "km")

    # Cards already issued keep their terms; a card issued afterwards carries them.
    assert (
        WarrantyCard.objects.get(order__host_id=host.ref(before.pk)).usage_limit is None
    )
    after = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variants[0], 1)]
    )
    card = WarrantyCard.objects.get(order__host_id=host.ref(after.pk))
    assert (card.usage_limit, card.usage_unit) == (40000, "km")
    beyond = anonymous_api.data(
        VERIFY_USAGE, {"code": display_code(card.code), "meter": 40001}
    )["warrantyCardVerify"]
    assert beyond == {
        "valid": False,
        "usageLimit": 40000,
        "usageUnit": "KM",
        "endedBy": "USAGE",
        "errors": [],
    }

    # The months alone change; the limit stays. Null for both removes it.
    kept = staff_api.data(
        USAGE_UPDATE, {"type": type_id, "input": {"warrantyMonths": 36}}
    )["aftersalesPolicyUpdate"]["policy"]
    assert (kept["warrantyMonths"], kept["warrantyUsageLimit"]) == (36, 40000)
    removed = staff_api.data(
        USAGE_UPDATE,
        {
            "type": type_id,
            "input": {"warrantyUsageLimit": None, "warrantyUsageUnit": None},
        },
    )["aftersalesPolicyUpdate"]
    assert removed["errors"] == []
    assert (
        removed["policy"]["warrantyMonths"],
        removed["policy"]["warrantyUsageLimit"],
        removed["policy"]["warrantyUsageUnit"],
    ) == (36, None, None)
    assert WarrantyPolicy.objects.values_list(
        "months", "usage_limit", "usage_unit"
    ).get() == (36, None, "")
    hours = staff_api.data(
        USAGE_UPDATE,
        {
            "type": type_id,
            "input": {"warrantyUsageLimit": 2000, "warrantyUsageUnit": "HOURS"},
        },
    )["aftersalesPolicyUpdate"]["policy"]
    assert (hours["warrantyUsageLimit"], hours["warrantyUsageUnit"]) == (2000, "HOURS")


KM = {"warrantyUsageUnit": "KM"}


@pytest.mark.parametrize(
    "values, field, code",
    [
        ({"warrantyUsageLimit": 0, **KM}, "warrantyUsageLimit", "INVALID"),
        ({"warrantyUsageLimit": -5, **KM}, "warrantyUsageLimit", "INVALID"),
        ({"warrantyUsageLimit": 10_000_001, **KM}, "warrantyUsageLimit", "INVALID"),
        ({"warrantyUsageLimit": 40000}, "warrantyUsageUnit", "REQUIRED"),
        (
            {"warrantyUsageLimit": 40000, "warrantyUsageUnit": None},
            "warrantyUsageUnit",
            "REQUIRED",
        ),
        (KM, "warrantyUsageLimit", "REQUIRED"),
        ({"warrantyUsageLimit": None, **KM}, "warrantyUsageLimit", "REQUIRED"),
        # A product type without warranty terms of its own: say how many months.
        ({"warrantyUsageLimit": 40000, **KM}, "warrantyMonths", "REQUIRED"),
        (
            {"warrantyMonths": 601, "warrantyUsageLimit": 40000, **KM},
            "warrantyMonths",
            "INVALID",
        ),
    ],
)
def test_bad_usage_limits_are_refused_with_codes_and_change_nothing(
    staff_api, variants, values, field, code
):
    type_id = gid("ProductType", variants[0].product.product_type_id)
    result = staff_api.data(USAGE_UPDATE, {"type": type_id, "input": values})[
        "aftersalesPolicyUpdate"
    ]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]
    assert result["policy"] is None
    assert not ReturnPolicy.objects.exists()
    assert not WarrantyPolicy.objects.exists()


def test_a_bad_usage_limit_leaves_existing_terms_alone(staff_api, variants):
    product_type = variants[0].product.product_type
    type_id = gid("ProductType", product_type.pk)
    WarrantyPolicy.objects.create(
        product_type_ref=host.ref(product_type.pk),
        months=24,
        usage_limit=40000,
        usage_unit="km",
    )
    for values in (
        {"warrantyMonths": 36, "warrantyUsageLimit": 0, "warrantyUsageUnit": "HOURS"},
        {"warrantyMonths": 36, "warrantyUsageLimit": 100},
    ):
        result = staff_api.data(USAGE_UPDATE, {"type": type_id, "input": values})
        assert result["aftersalesPolicyUpdate"]["errors"]
    # Not an enum value: GraphQL itself refuses the variables (HTTP 400).
    variables = {"warrantyUsageLimit": 5, "warrantyUsageUnit": "MILES"}
    response = staff_api.client.post(
        "/graphql/",
        json.dumps(
            {"query": USAGE_UPDATE, "variables": {"type": type_id, "input": variables}}
        ),
        content_type="application/json",
        **staff_api.headers,
    )
    assert response.status_code == 400
    assert "WarrantyUsageUnit" in json.loads(response.content)["errors"][0]["message"]
    assert WarrantyPolicy.objects.values_list(
        "months", "usage_limit", "usage_unit"
    ).get() == (24, 40000, "km")
    assert not ReturnPolicy.objects.exists()
