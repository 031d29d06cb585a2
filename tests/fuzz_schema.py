"""Schemathesis against a running Saleor: every query and mutation of the plugin,
with arguments generated from the schema, as several callers. Runs in its own
Python 3.11 environment (.venv-fuzz); tests/test_fuzzing.py serves the shop and
judges the report this prints.

    python tests/fuzz_schema.py URL --fields a,b --examples N --caller NAME=TOKEN ...
        [--id ID ...] [--uuid TOKEN ...] [--text STRING ...]

For every request the report keeps the HTTP status and, for each GraphQL error,
the exception class Saleor names in `extensions.exception.code`: a 500 or an
exception other than GraphQL's own errors and PermissionDenied is a bug.
IDs, order tokens and strings are drawn partly from the real ones given (so the
fuzzer reaches claims that exist), partly made up.
"""

import argparse
import json
import re
import sys
from collections import Counter, defaultdict

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# Saleor's own scalars, as text GraphQL would accept or refuse.
TEXT = st.text(max_size=40)
NUMBERS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.sampled_from(["0", "-1", "1e309", "NaN", "Infinity", "0.001", "99999999999"]),
    TEXT,
)
SCALARS = {
    "Decimal": NUMBERS.map(nodes.String),
    "PositiveDecimal": NUMBERS.map(nodes.String),
    "WeightScalar": NUMBERS.map(nodes.String),
    "DateTime": st.one_of(
        st.datetimes(timezones=st.none() | st.timezones()).map(
            lambda moment: moment.isoformat()
        ),
        TEXT,
    ).map(nodes.String),
    "Date": st.one_of(st.dates().map(str), TEXT).map(nodes.String),
    "JSONString": st.one_of(
        st.dictionaries(TEXT, TEXT, max_size=3).map(json.dumps), TEXT
    ).map(nodes.String),
    "GenericScalar": TEXT.map(nodes.String),
    # A multipart file can't be sent in a JSON body: the name of a part that is
    # not there.
    "Upload": TEXT.map(nodes.String),
}
# What Saleor reports for a refusal, not a failure: GraphQL's own errors (bad
# arguments, unknown ids) and PermissionDenied.
EXPECTED = {"GraphQLError", "PermissionDenied"}
# Time limits that hold on a loaded 2-core machine (`make test` with load 5):
# schemathesis's own default is 10 s for loading the schema (Saleor's whole
# introspection) and for each request. A request that really hangs still fails.
SCHEMA_SECONDS = 300
REQUEST_SECONDS = 300


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--caller", action="append", default=[])
    parser.add_argument("--id", action="append", default=[])
    parser.add_argument("--uuid", action="append", default=[])
    parser.add_argument("--text", action="append", default=[])
    parser.add_argument("--fields", required=True, help="comma-separated")
    args = parser.parse_args()

    scalars = dict(SCALARS)
    ids = st.sampled_from(args.id) if args.id else st.nothing()
    scalars["ID"] = st.one_of(ids, ids, TEXT).map(nodes.String)
    tokens = st.sampled_from(args.uuid) if args.uuid else st.nothing()
    scalars["UUID"] = st.one_of(tokens, st.uuids().map(str), TEXT).map(nodes.String)
    if args.text:
        scalars["String"] = st.one_of(st.sampled_from(args.text), TEXT).map(
            nodes.String
        )
    for name, strategy in scalars.items():
        schemathesis.graphql.scalar(name, strategy)

    schema = schemathesis.graphql.from_url(
        args.url, timeout=SCHEMA_SECONDS, wait_for_schema=SCHEMA_SECONDS
    )
    # Saleor 2.10's graphql-core 2 predates the `null` literal: a query holding one
    # is a syntax error before the plugin sees it.
    schema.config.generation.update(graphql_allow_null=False)
    wanted = set(args.fields.split(","))
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.field_name in wanted:
            operations.append(operation)
    found = {operation.definition.field_name for operation in operations}
    seen = set()
    callers = dict(caller.split("=", 1) for caller in args.caller)

    report = {
        "missing": sorted(wanted - found),
        "requests": 0,
        "statuses": Counter(),
        "answered": Counter(),  # per field: responses without any error
        "errors": defaultdict(Counter),  # exception class -> field -> count
        "unexpected": [],  # a sample of each other failure
    }

    for operation in operations:
        field = operation.definition.field_name
        for caller, token in callers.items():
            headers = {"Authorization": f"JWT {token}"} if token else {}

            @given(case=operation.as_strategy())
            @settings(
                max_examples=args.examples,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case):
                response = case.call(headers=headers, timeout=REQUEST_SECONDS)
                report["requests"] += 1
                report["statuses"][response.status_code] += 1
                try:
                    errors = response.json().get("errors") or []
                except ValueError:
                    errors = [{"extensions": {"exception": {"code": "not JSON"}}}]
                if not errors and response.status_code == 200:
                    report["answered"][field] += 1
                for error in errors:
                    code = (
                        (error.get("extensions") or {})
                        .get("exception", {})
                        .get("code", "none")
                    )
                    report["errors"][code][field] += 1
                    if code in EXPECTED and response.status_code < 500:
                        continue
                    message = str(error.get("message"))
                    # One sample per kind: numbers (ids, limits) vary.
                    kind = (response.status_code, code, re.sub(r"\d+", "N", message))
                    if kind not in seen:
                        seen.add(kind)
                        report["unexpected"].append(
                            {
                                "status": response.status_code,
                                "code": code,
                                "message": message,
                                "field": field,
                                "caller": caller,
                                "query": (
                                    case.body.get("query")
                                    if isinstance(case.body, dict)
                                    else str(case.body)
                                ),
                            }
                        )

            fuzz()
        print(f"{field}: done", file=sys.stderr, flush=True)
    json.dump(report, sys.stdout, indent=1, default=dict)


if __name__ == "__main__":
    main()
