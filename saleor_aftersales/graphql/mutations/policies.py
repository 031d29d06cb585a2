"""The shop's return policies per product type (MANAGE_ORDERS)."""

from dataclasses import asdict

import graphene

from ... import policies
from ..host import api
from ...configuration import get_settings
from ..enums import WarrantyUsageUnit
from ..types import AftersalesPolicy
from .base import AftersalesMutation, get_host_record


class AftersalesPolicyInput(graphene.InputObjectType):
    """Fields left out keep their value; null puts one back on the shop's."""

    final_sale = graphene.Boolean(description="No returns or exchanges at all.")
    return_window_days = graphene.Int(description="Days to return a faulty item.")
    changed_mind_window_days = graphene.Int(
        description="Days to return an item nothing is wrong with."
    )
    exchange_window_days = graphene.Int(description="Days to exchange.")
    restocking_fee_percent = api.DecimalScalar(
        description="Kept on changed-mind and size returns, 0-100."
    )
    returnless_refund_below = api.DecimalScalar(
        description="Returns worth less are refunded without coming back; 0: never."
    )
    shipping_refundable = graphene.Boolean(
        description="Whether refunds may include the order's shipping."
    )
    warranty_months = graphene.Int(description="Warranty of each sold unit.")
    warranty_usage_limit = graphene.Int(
        description=(
            "Warranty ends at this usage too, e.g. 40000 (km), 1-10000000; with "
            "warrantyUsageUnit. Null for both: no usage limit."
        )
    )
    warranty_usage_unit = WarrantyUsageUnit(
        description="Unit of warrantyUsageLimit; given with it."
    )


def as_graphql(terms: policies.Terms, product_type=None) -> AftersalesPolicy:
    """The terms with the host's product type they belong to (None: the shop's)."""
    fields = asdict(terms.policy)
    del fields["product_type_ref"]
    return AftersalesPolicy(
        product_type=product_type,
        warranty_months=terms.warranty_months,
        warranty_usage_limit=terms.warranty_usage_limit,
        warranty_usage_unit=terms.warranty_usage_unit or None,
        **fields,
    )


def terms_now(product_type) -> AftersalesPolicy:
    terms = policies.terms_of(api.ref(product_type.pk), get_settings())
    return as_graphql(terms, product_type)


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
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def perform_mutation(cls, _root, info, product_type, input):
        product_type = get_host_record("ProductType", product_type, "productType")
        # An explicit null puts a field back on the shop's setting.
        values = {
            name: value
            for name, value in input.items()
            if name in policies.POLICY_FIELDS
        }
        # The usage limit and its unit go together (both or neither).
        usage_fields = ("warranty_usage_limit", "warranty_usage_unit")
        usage = {name: input[name] for name in usage_fields if name in input}
        policies.save_policy(
            api.ref(product_type.pk),
            values,
            warranty_months=input.get("warranty_months"),
            warranty_usage=usage or None,
        )
        return cls.success(policy=terms_now(product_type))


class AftersalesPolicyDelete(AftersalesMutation):
    policy = graphene.Field(AftersalesPolicy, description="The terms now in force.")

    class Arguments:
        product_type = graphene.ID(required=True, description="ID of a product type.")

    class Meta:
        description = "Put a product type back on the shop's return terms."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def perform_mutation(cls, _root, info, product_type):
        product_type = get_host_record("ProductType", product_type, "productType")
        policies.delete_policy(api.ref(product_type.pk))
        return cls.success(policy=terms_now(product_type))
