"""The shop's return policies per product type (MANAGE_ORDERS)."""

import graphene

from ... import host, policies
from ...plugin import get_settings
from ..types import AftersalesPolicy
from .base import AftersalesMutation, get_instance


class AftersalesPolicyInput(graphene.InputObjectType):
    """Fields left out keep their value; null puts one back on the shop's."""

    final_sale = graphene.Boolean(description="No returns or exchanges at all.")
    return_window_days = graphene.Int(description="Days to return a faulty item.")
    changed_mind_window_days = graphene.Int(
        description="Days to return an item nothing is wrong with."
    )
    exchange_window_days = graphene.Int(description="Days to exchange.")
    restocking_fee_percent = host.DecimalScalar(
        description="Kept on changed-mind and size returns, 0-100."
    )
    returnless_refund_below = host.DecimalScalar(
        description="Returns worth less are refunded without coming back; 0: never."
    )
    shipping_refundable = graphene.Boolean(
        description="Whether refunds may include the order's shipping."
    )
    warranty_months = graphene.Int(description="Warranty of each sold unit.")


def policy_result(product_type) -> AftersalesPolicy:
    """The product type's terms as they now apply, defaults filled in."""
    for row in policies.policy_overview(get_settings()):
        if (
            row["product_type"] is not None
            and row["product_type"].pk == product_type.pk
        ):
            return as_graphql(row)
    return as_graphql(
        {
            "policy": policies.shop_policy(get_settings()),
            "product_type": product_type,
            "warranty_months": get_settings().warranty_months,
        }
    )


def as_graphql(row) -> AftersalesPolicy:
    policy = row["policy"]
    return AftersalesPolicy(
        product_type=row["product_type"],
        final_sale=policy.final_sale,
        return_window_days=policy.return_window_days,
        changed_mind_window_days=policy.changed_mind_window_days,
        exchange_window_days=policy.exchange_window_days,
        restocking_fee_percent=policy.restocking_fee_percent,
        returnless_refund_below=policy.returnless_refund_below,
        shipping_refundable=policy.shipping_refundable,
        warranty_months=row["warranty_months"],
    )


class AftersalesPolicyUpdate(AftersalesMutation):
    policy = graphene.Field(AftersalesPolicy, description="The terms now in force.")

    class Arguments:
        product_type = graphene.ID(required=True, description="ID of a product type.")
        input = AftersalesPolicyInput(
            required=True, description="Terms to set; fields left out keep theirs."
        )

    class Meta:
        description = (
            "Set a product type's after-sales terms; the rest follow the shop's "
            "settings."
        )
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def perform_mutation(cls, _root, info, product_type, input):
        product_type = get_instance(
            host.ProductType, product_type, "ProductType", "productType"
        )
        # An explicit null puts a field back on the shop's setting.
        values = {
            name: value
            for name, value in input.items()
            if name in policies.POLICY_FIELDS
        }
        policies.save_policy(
            product_type, values, warranty_months=input.get("warranty_months")
        )
        return cls.success(policy=policy_result(product_type))


class AftersalesPolicyDelete(AftersalesMutation):
    policy = graphene.Field(AftersalesPolicy, description="The terms now in force.")

    class Arguments:
        product_type = graphene.ID(required=True, description="ID of a product type.")

    class Meta:
        description = "Put a product type back on the shop's return terms."
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def perform_mutation(cls, _root, info, product_type):
        product_type = get_instance(
            host.ProductType, product_type, "ProductType", "productType"
        )
        policies.delete_policy(product_type)
        return cls.success(policy=policy_result(product_type))
