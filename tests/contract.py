"""The API's contract as a schema states it: every type, field, argument and enum
value a client of the after-sales API can reach, from the plugin's own root fields.

Both hosts serve it: the 2.10 plugin inside Saleor's schema, the 3.23 app alone.
``contract.json`` holds the plugin's, written from the 2.10 schema
(``python -m tests.contract`` in .venv, settings ``tests.settings``); the 2.10
suite checks it is current, the app's suite that the app serves the same.

Saleor's own types (``SALEOR_TYPES``) are the host's: the plugin returns
Saleor's, the app types of the same names with the fields a returns page reads.
The contract names the fields of theirs the plugin's pages use; a host may have
more.
"""

import json
from pathlib import Path

from graphql.type.definition import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
)

PATH = Path(__file__).with_name("contract.json")

SALEOR_TYPES = {
    "Order": {"id", "number", "created", "userEmail", "lines"},
    "OrderLine": {
        "id",
        "productName",
        "variantName",
        "productSku",
        "quantity",
        "quantityFulfilled",
        "variant",
    },
    "User": {"id", "email"},
    "ProductVariant": {"id", "name", "sku", "product"},
    "Product": {"id", "variants"},
    "ProductType": {"id", "name"},
    "Money": {"amount", "currency"},
    "PageInfo": {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"},
}


def _named(type_):
    while isinstance(type_, (GraphQLList, GraphQLNonNull)):
        type_ = type_.of_type
    return type_


def _args(field) -> dict:
    return {name: str(arg.type) for name, arg in sorted(field.args.items())}


def contract(schema, query_fields, mutation_fields) -> dict:
    """{"Query": …, "Mutation": …, type name: …} reachable from the root fields."""
    graphql_schema = getattr(schema, "graphql_schema", schema)
    found = {}
    pending = []

    def visit(type_):
        type_ = _named(type_)
        if type_.name in found or type_.name.startswith("__"):
            return
        if isinstance(type_, GraphQLEnumType):
            found[type_.name] = {"enum": sorted(value.name for value in type_.values)}
        elif isinstance(type_, GraphQLInputObjectType):
            found[type_.name] = {
                "input": {n: str(f.type) for n, f in sorted(type_.fields.items())}
            }
            for f in type_.fields.values():
                pending.append(f.type)
        elif isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
            wanted = SALEOR_TYPES.get(type_.name)
            fields = {}
            for name, field in sorted(type_.fields.items()):
                if wanted is not None and name not in wanted:
                    continue
                fields[name] = {"type": str(field.type), "args": _args(field)}
                pending.append(field.type)
                for arg in field.args.values():
                    pending.append(arg.type)
            found[type_.name] = {"fields": fields}
        elif isinstance(type_, GraphQLUnionType):
            found[type_.name] = {"union": sorted(t.name for t in type_.types)}
            pending.extend(type_.types)
        else:
            found[type_.name] = {"scalar": True}

    roots = {}
    for root_name, root_type, names in (
        ("Query", graphql_schema.get_query_type(), query_fields),
        ("Mutation", graphql_schema.get_mutation_type(), mutation_fields),
    ):
        fields = {}
        for name in sorted(names):
            field = root_type.fields[name]
            fields[name] = {"type": str(field.type), "args": _args(field)}
            pending.append(field.type)
            pending.extend(arg.type for arg in field.args.values())
        roots[root_name] = {"fields": fields}
    while pending:
        visit(pending.pop())
    return {**roots, **dict(sorted(found.items()))}


def of_api(schema) -> dict:
    """The contract of the after-sales API in ``schema`` (either host's)."""
    from saleor_aftersales.graphql.schema import AftersalesMutations, AftersalesQueries

    return contract(
        schema,
        [_camel(name) for name in AftersalesQueries._meta.fields],
        [_camel(name) for name in AftersalesMutations._meta.fields],
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def written() -> dict:
    return json.loads(PATH.read_text())


if __name__ == "__main__":
    import django

    django.setup()
    from saleor_aftersales.graphql.schema import schema

    PATH.write_text(json.dumps(of_api(schema), indent=1, sort_keys=True) + "\n")
    print(f"wrote {PATH}")
