"""Every query and mutation the plugin adds, read from the schema itself, called by
strangers: nobody signed in (sending a wrong order token wherever a field takes
one, as a guest who guessed), another customer, and staff without MANAGE_ORDERS. None of them may change anything or
see anything of the victim's claim.

Arguments are filled in from their GraphQL types, aimed at the victim's claim and
order, so a new field is covered the day it is added.
"""

import json
import uuid

import graphene
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

from saleor_aftersales import models
from saleor_aftersales.graphql.schema import AftersalesMutations, AftersalesQueries
from saleor_aftersales.hosts.saleor2 import shop as host

from .conftest import ApiClient, create_return, gid, line_input

# Open to anyone by design (rate-limited, no personal data).
PUBLIC = {"warrantyCardVerify", "aftersalesOrderLookup"}


def plugin_fields(root, own):
    names = {graphene.utils.str_converters.to_camel_case(n) for n in own._meta.fields}
    return {name: field for name, field in root.fields.items() if name in names}


def unwrap(type_):
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    return type_


def value_for(name, type_, target, depth=0):
    """A plausible value of ``type_`` aimed at the victim's data."""
    required = isinstance(type_, GraphQLNonNull)
    base = unwrap(type_)
    inner = type_.of_type if required else type_
    is_list = isinstance(inner, GraphQLList)
    if isinstance(base, GraphQLScalarType):
        value = {
            "ID": target.get(name, target["id"]),
            "String": target.get(name, "x"),
            "Int": 1,
            "Float": 1.0,
            "Boolean": True,
            "Decimal": "1.00",
            "UUID": target["wrong_token"],
            "Date": "2026-11-01",
            "DateTime": "2026-11-01T00:00:00+00:00",
            "JSONString": "{}",
            "Upload": "0",  # the multipart part's name; no file comes with it
        }.get(base.name, "x")
    elif isinstance(base, GraphQLEnumType):
        value = base.values[0].name
    elif isinstance(base, GraphQLInputObjectType):
        if depth > 3:
            return None
        value = {
            field_name: value_for(field_name, field.type, target, depth + 1)
            for field_name, field in base.fields.items()
            if isinstance(field.type, GraphQLNonNull) or field_name in target
        }
    else:
        value = None
    if value is not None and is_list and not isinstance(value, list):
        value = [value]
    return value if (required or name in target) else None


def document(kind, name, field, target):
    args, variables, params = [], {}, []
    for arg_name, arg in field.args.items():
        value = value_for(arg_name, arg.type, target)
        if value is None and not isinstance(arg.type, GraphQLNonNull):
            continue
        variables[arg_name] = value
        params.append(f"${arg_name}: {arg.type}")
        args.append(f"{arg_name}: ${arg_name}")
    returned = unwrap(field.type)
    if isinstance(returned, (GraphQLScalarType, GraphQLEnumType)):
        selection = ""
    elif "errors" in returned.fields:
        selection = "{ __typename errors { code } }"
    else:
        selection = "{ __typename }"
    call = f"{name}({', '.join(args)})" if args else name
    header = f"({', '.join(params)})" if params else ""
    return f"{kind} Probe{header} {{ {call} {selection} }}", variables


def snapshot():
    counted = [
        models.AftersalesRequest,
        models.AftersalesLine,
        models.AftersalesEvent,
        models.AftersalesRefund,
        models.AftersalesPhoto,
        models.ReturnPolicy,
        models.WarrantyPolicy,
        models.WebhookSubscription,
        models.WebhookDelivery,
        models.RepairQuote,
    ]
    state = {model.__name__: model.objects.count() for model in counted}
    state["statuses"] = list(
        models.AftersalesRequest.objects.order_by("pk").values_list(
            "status", "assignee_ref", "rating"
        )
    )
    state["cards"] = list(
        models.WarrantyCard.objects.order_by("pk").values_list("ends_at", "voided_at")
    )
    return state


@pytest.fixture
def victim(customer_api, order):
    claim = create_return(customer_api, order, [line_input(order.lines.first(), 1)])[
        "aftersalesRequest"
    ]
    card = models.WarrantyCard.objects.filter(order__host_id=host.ref(order.pk)).first()
    return {
        "id": claim["id"],
        "number": claim["number"],
        "order": gid("Order", order.pk),
        "orderLine": gid("OrderLine", order.lines.first().pk),
        "productType": gid(
            "ProductType", order.lines.first().variant.product.product_type_id
        ),
        "code": card.code,
        "serialNumber": "SN-1",
        "first": 5,
        "email": order.user_email,
        "wrong_token": str(uuid.uuid4()),
        "token": str(order.token),
    }


@pytest.fixture
def strangers(other_customer, staff_without_permission):
    return {
        "anonymous": ApiClient(),
        "another customer": ApiClient(other_customer),
        "staff without MANAGE_ORDERS": ApiClient(staff_without_permission),
    }


def test_every_plugin_field_refuses_every_stranger(strangers, victim):
    from saleor_aftersales.graphql.schema import schema

    queries = plugin_fields(schema.get_query_type(), AftersalesQueries)
    mutations = plugin_fields(schema.get_mutation_type(), AftersalesMutations)
    assert len(queries) >= 10 and len(mutations) >= 25
    before = snapshot()
    checked = 0
    for kind, fields in (("query", queries), ("mutation", mutations)):
        for name, field in fields.items():
            query, variables = document(kind, name, field, victim)
            for who, api in strangers.items():
                content = api.post(query, variables)
                text = json.dumps(content)
                where = f"{who} calling {name}"
                # Nothing of the victim's claim comes back, in data or errors.
                assert victim["number"] not in text, where
                assert victim["email"] not in text, where
                assert victim["token"] not in text, where
                if name not in PUBLIC:
                    answer = (content.get("data") or {}).get(name)
                    payload = answer if isinstance(answer, dict) else {}
                    errors = content.get("errors") or payload.get("errors")
                    # Refused outright, answered with a clear error, or given
                    # nothing: never a silent success on someone else's claim.
                    # (A customer's own, empty lists are theirs to see.)
                    nothing = answer in (None, []) or name.startswith("my")
                    assert errors or nothing, (where, content)
                checked += 1
    assert snapshot() == before
    print(f"\n{checked} stranger calls on {len(queries) + len(mutations)} fields")
