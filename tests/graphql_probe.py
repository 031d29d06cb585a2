"""Probing the after-sales API from outside, on either host: the parts of the
authorization matrix and of the fuzzing that don't depend on who serves it.

- ``plugin_fields`` reads the API's own root fields off the schema;
  ``document`` writes a call of one, its arguments filled in from their GraphQL
  types and aimed at a victim's claim and order (so a new field is covered the
  day it is added); ``stranger_learns_nothing`` judges a stranger's answer;
  ``snapshot`` is the core's tables as a stranger must leave them.
- ``fuzz`` runs schemathesis (``fuzz_schema.py`` in .venv-fuzz) against a server
  over HTTP; ``failures`` and ``summary`` judge and describe its report.

The 2.10 suite (tests/test_authorization_matrix.py, tests/test_fuzzing.py) and
the app's (tests/saleor3/) import it; it imports no host.
"""

import json
import os
import re
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import graphene
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

ROOT = Path(__file__).resolve().parent.parent
FUZZ_PYTHON = ROOT / ".venv-fuzz" / "bin" / "python"
FUZZ_SCRIPT = ROOT / "tests" / "fuzz_schema.py"

# Open to anyone by design (rate-limited, no personal data).
PUBLIC = {"warrantyCardVerify", "aftersalesOrderLookup", "aftersalesOrderLinkSend"}


# The authorization matrix --------------------------------------------------------


def plugin_fields(root, own):
    """The fields of the root type ``root`` that the API's ``own`` type adds."""
    names = {graphene.utils.str_converters.to_camel_case(n) for n in own._meta.fields}
    return {name: field for name, field in root.fields.items() if name in names}


def api_fields(schema) -> Tuple[Dict, Dict]:
    """(queries, mutations) the after-sales API adds to ``schema``."""
    from saleor_aftersales.graphql.schema import AftersalesMutations, AftersalesQueries

    return (
        plugin_fields(schema.get_query_type(), AftersalesQueries),
        plugin_fields(schema.get_mutation_type(), AftersalesMutations),
    )


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
    """(query, variables): one call of root field ``name`` aimed at ``target``."""
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


def stranger_learns_nothing(content: dict, name: str, victim: dict, where: str):
    """A stranger's answer to a call of ``name``: nothing of the victim's claim
    comes back, in data or errors; and unless the field is public, the call is
    refused outright, answered with a clear error, or given nothing: never a
    silent success on someone else's claim (a customer's own, empty lists are
    theirs to see)."""
    text = json.dumps(content)
    assert victim["number"] not in text, where
    assert victim["email"] not in text, where
    assert victim["token"] not in text, where
    if name in PUBLIC:
        return
    answer = (content.get("data") or {}).get(name)
    payload = answer if isinstance(answer, dict) else {}
    errors = content.get("errors") or payload.get("errors")
    nothing = answer in (None, []) or name.startswith("my")
    assert errors or nothing, (where, content)


def snapshot(*extra_models):
    """The core's rows a stranger could change (and ``extra_models``' counts)."""
    from saleor_aftersales import models

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
        models.OrderLink,
        models.CustomerEmail,
        *extra_models,
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


# Fuzzing --------------------------------------------------------------------------


def report_key(status, code, message):
    """One kind of failure: numbers and quoted input don't matter."""
    message = re.sub(r"'[^']*'", "'…'", message)
    message = re.sub(r"0x[0-9a-f]{2}", "<byte>", message)
    message = re.sub(r"\d+", "N", message)
    return f"{status} {code}: {message}"


def examples(default: int) -> int:
    """Examples per field and caller: AFTERSALES_FUZZ_EXAMPLES, or ``default``."""
    return int(os.environ.get("AFTERSALES_FUZZ_EXAMPLES", str(default)))


def fuzz(
    url: str,
    fields: Iterable[str],
    callers: Dict[str, str],
    *,
    examples: int,
    ids: Iterable[str] = (),
    uuids: Iterable[str] = (),
    texts: Iterable[str] = (),
) -> Tuple[dict, float]:
    """Schemathesis's report on ``fields`` of the API at ``url`` called by each
    of ``callers`` (name: token, empty for nobody), and the seconds it took."""
    command = [
        str(FUZZ_PYTHON),
        str(FUZZ_SCRIPT),
        url,
        f"--examples={examples}",
        f"--fields={','.join(sorted(fields))}",
        *[f"--caller={name}={token}" for name, token in callers.items()],
        *[f"--id={value}" for value in ids],
        *[f"--uuid={value}" for value in uuids],
        *[f"--text={value}" for value in texts],
    ]
    started = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, timeout=3000)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout), time.monotonic() - started


def failures(report: dict, fields: List[str], host_refusals, log_records) -> dict:
    """What the fuzzer found wrong, by kind (all empty when nothing was):
    fields it could not reach, 5xx answers, failures other than GraphQL's own
    errors and PermissionDenied (save ``host_refusals``, keyed by ``report_key``),
    errors the API logged that no response showed, and too few fields the fuzzer
    got past the parsers on (mutations may still refuse with a typed error)."""
    statuses = Counter({int(k): v for k, v in report["statuses"].items()})
    return {
        "missing": report["missing"],
        "server errors": [status for status in statuses if status >= 500],
        "unexpected": [
            sample
            for sample in report["unexpected"]
            if report_key(sample["status"], sample["code"], sample["message"])
            not in host_refusals
        ],
        "logged errors": [
            record.getMessage()
            for record in log_records
            if record.name.startswith("saleor_aftersales")
            and record.levelname == "ERROR"
        ],
        "unanswered": (
            []
            if len(report["answered"]) >= 0.8 * len(fields)
            else sorted(set(fields) - set(report["answered"]))
        ),
    }


def summary(report: dict, fields: List[str], seconds: float) -> str:
    statuses = Counter({int(k): v for k, v in report["statuses"].items()})
    return (
        f"{report['requests']} requests on {len(fields)} fields in {seconds:.0f} s: "
        f"statuses {dict(statuses)}; answered without error by field: "
        f"{sum(report['answered'].values())}; refusals by exception: "
        + ", ".join(
            f"{code} {sum(by_field.values())}"
            for code, by_field in sorted(report["errors"].items())
        )
    )
