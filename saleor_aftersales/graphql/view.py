"""/graphql/: Saleor's view, which first measures what a document would cost.

Saleor 2.10 parses a document, then validates and runs it in one go. Here every
document, batched ones each and all together, is measured right after parsing
(graphql/cost.py) and refused before validation and execution if it is over a
ceiling: HTTP 400, as Saleor answers an invalid document, with Saleor 3's
``QUERY_TOO_COSTLY`` error and ``extensions.cost``. An answered document carries
its cost in ``extensions.cost`` too.

Throttled fields are counted before anything runs: every alias of
``warrantyCardVerify``, ``aftersalesOrderLookup`` and
``aftersalesOrderLinkSend`` is one call of the client's
budget, counted at once. A document asking more than the budget has left is
refused whole (HTTP 429, ``THROTTLED``); the resolvers then take the verdict
already paid for instead of counting again (throttle.prepaid), so one alias is
one count.
"""

import json
import logging
from typing import Dict, List, Optional, Tuple

from django.http import JsonResponse

from .. import throttle
from .host import api
from ..configuration import get_settings
from . import cost
from .mutations.base import storable

logger = logging.getLogger(__name__)

# Root fields throttled per client, with the bucket their resolver counts in
# (schema.py: resolve_warranty_card_verify; mutations/links.py: send_link, which
# the order look-up and aftersalesOrderLinkSend share, so they share a bucket).
THROTTLED_FIELDS = {
    "warrantyCardVerify": throttle.WARRANTY_VERIFY,
    "aftersalesOrderLookup": throttle.ORDER_LOOKUP,
    "aftersalesOrderLinkSend": throttle.ORDER_LOOKUP,
}

MESSAGES = {
    "cost": "The query exceeds the maximum cost of {maximum}. Actual cost is "
    "{requested}.",
    "depth": "The query nests fields {requested} deep; at most {maximum} are allowed.",
    "aliases": "The query has {requested} aliases; at most {maximum} are allowed.",
    "fields": "The query selects {requested} fields; at most {maximum} are allowed.",
    "length": "The query is {requested} characters long; at most {maximum} are "
    "allowed.",
    "introspection": "The introspection query nests type and field lists "
    "{requested} deep; at most {maximum} are allowed.",
    "batch": "The batch has {requested} operations; at most {maximum} are allowed.",
    "repeats": "The request asks for one field {requested} times; at most {maximum} "
    "are allowed.",
    "unmeasured": "The query could not be measured.",
}


def too_costly(name: str, requested: int, maximum: int, analysis_cost: int, limits):
    return {
        "message": MESSAGES[name].format(requested=requested, maximum=maximum),
        "extensions": {
            "code": "QUERY_TOO_COSTLY",
            "cost": {
                "requestedQueryCost": analysis_cost,
                "maximumAvailable": limits.maximum_cost,
            },
            "limit": {"name": name, "requested": requested, "maximum": maximum},
            # What Saleor's view says of every error it reports.
            "exception": {"code": "GraphQLError"},
        },
    }


INVALID_UNICODE = {
    "message": "The request holds text that is not valid Unicode (a lone "
    "surrogate).",
    "extensions": {"code": "INVALID_UNICODE", "exception": {"code": "GraphQLError"}},
}

THROTTLED = {
    "message": "Too many attempts; try again in a minute.",
    "extensions": {"code": "THROTTLED", "exception": {"code": "GraphQLError"}},
}


def encodable(data, depth: int = 0) -> bool:
    """Whether every text in the request can be stored: JSON may carry lone
    surrogates (``"\\ud800"``) that PostgreSQL and hashing refuse. Multipart
    uploads carry theirs in the ``operations`` JSON."""
    if depth > 64:
        return True  # the cost limit refuses such nesting
    if isinstance(data, str):
        return storable(data)
    if hasattr(data, "getlist"):  # a multipart form
        try:
            operations = json.loads(data.get("operations") or "null")
        except (ValueError, RecursionError):
            return True  # Saleor's view refuses it
        return encodable(operations, depth + 1) and all(
            encodable(value, depth + 1) for value in data.values()
        )
    if isinstance(data, dict):
        return all(
            encodable(key, depth + 1) and encodable(value, depth + 1)
            for key, value in data.items()
        )
    if isinstance(data, list):
        return all(encodable(item, depth + 1) for item in data)
    return True


class GraphQLView(api.GraphQLView):
    limits = cost.Limits()

    # Saleor's view reads the body and parses each query once per request; the
    # measure needs both first, so they are kept for it.
    def parse_body(self, request):
        if not hasattr(self, "_body"):
            try:
                self._body = super().parse_body(request)
            except RecursionError:
                # JSON nested past Python's stack: as unreadable as any bad JSON.
                raise ValueError("The request body nests too deeply.")
        return self._body

    def parse_query(self, query):
        parsed = self.__dict__.setdefault("_parsed", {})
        if not isinstance(query, str):
            return super().parse_query(query)
        if query not in parsed:
            parsed[query] = super().parse_query(query)
        return parsed[query]

    def _handle_query(self, request):
        try:
            data = self.parse_body(request)
        except ValueError:
            return super()._handle_query(request)
        batch = isinstance(data, list)
        entries = data if batch else [data]
        if not encodable(data):
            refusal, status, prepaid = INVALID_UNICODE, 400, {}
        else:
            refusal, status, prepaid = self.admit(request, entries)
        if refusal is not None:
            response = JsonResponse(
                data=[{"errors": [refusal]} for _ in entries]
                if batch
                else {"errors": [refusal]},
                status=status,
                safe=False,
            )
            if status == 429:
                response["Retry-After"] = "60"
            return response
        with throttle.prepaid(prepaid):
            return super()._handle_query(request)

    def get_response(self, request, data):
        result, status_code = super().get_response(request, data)
        analysis = getattr(self, "_analyses", {}).get(id(data))
        if analysis is not None and isinstance(result, dict) and "data" in result:
            result["extensions"] = {
                "cost": {
                    "requestedQueryCost": analysis.cost,
                    "maximumAvailable": self.limits.maximum_cost,
                }
            }
        return result, status_code

    def measure(self, request, entry) -> Optional[cost.Analysis]:
        """The entry's measure; None if Saleor's view will refuse it anyway (no
        query, a syntax error, not an object)."""
        if not isinstance(entry, dict):
            return None
        try:
            query, variables, operation_name = self.get_graphql_params(request, entry)
        except Exception:  # Saleor's view fails on it the same way
            return None
        if isinstance(query, str) and len(query) > self.limits.maximum_length:
            return cost.Analysis(length=len(query))
        if isinstance(query, str):
            # Brackets nested past any ceiling would recurse the parser away.
            nested = cost.nesting(query)
            if nested > cost.MAXIMUM_NESTING:
                return cost.Analysis(depth=nested, length=len(query))
        document, error = self.parse_query(query)
        if error is not None or document is None:
            return None
        analysis = cost.analyze(
            self.schema, document.document_ast, variables, operation_name, self.limits
        )
        analysis.length = len(query)
        return analysis

    def admit(
        self, request, entries: list
    ) -> Tuple[Optional[dict], int, Dict[Tuple[str, str], Tuple[int, bool]]]:
        """(refusal, HTTP status, throttle verdicts paid for) for the request."""
        limits = self.limits
        self._analyses: Dict[int, cost.Analysis] = {}
        if len(entries) > limits.maximum_batch:
            return (
                too_costly("batch", len(entries), limits.maximum_batch, 0, limits),
                400,
                {},
            )
        # The whole request's text first: a batch of large documents is refused
        # before any of them is parsed.
        length = sum(
            len(entry.get("query") or "")
            for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("query"), str)
        )
        if length > limits.maximum_length:
            return (
                too_costly("length", length, limits.maximum_length, 0, limits),
                400,
                {},
            )
        total = cost.Analysis()
        refusal = None
        for entry in entries:
            try:
                analysis = self.measure(request, entry)
            except Exception:
                logger.exception("Could not measure a GraphQL document")
                return too_costly("unmeasured", 0, 0, cost.CAP, limits), 400, {}
            if analysis is None:
                continue
            self._analyses[id(entry)] = analysis
            total.cost = min(cost.CAP, total.cost + analysis.cost)
            for name, count in analysis.root_fields.items():
                total.root_fields[name] = total.root_fields.get(name, 0) + count
            violation = analysis.violation(limits)
            if violation:
                refusal = self.refusal(analysis, violation)
                break  # what follows would not run: no need to measure it
        if refusal is None and total.cost > limits.maximum_cost:
            refusal = self.refusal(total, "cost")
        if refusal is None:
            # The same field asked again and again (aliases, batches) runs its
            # queries every time; throttled fields answer to their budget instead.
            repeats = max(
                (
                    count
                    for name, count in total.root_fields.items()
                    if name not in THROTTLED_FIELDS
                ),
                default=0,
            )
            if repeats > cost.MAXIMUM_REPEATS:
                refusal = too_costly(
                    "repeats", repeats, cost.MAXIMUM_REPEATS, total.cost, limits
                )

        # Every alias of a throttled field counts, even in a refused document:
        # each is a guess.
        prepaid, throttled = self.charge_throttles(request, total.root_fields)
        if refusal is not None:
            logger.info("Refused a GraphQL request: %s", refusal["message"])
            return refusal, 400, prepaid
        if throttled:
            return THROTTLED, 429, prepaid
        return None, 200, prepaid

    def refusal(self, analysis: cost.Analysis, violation: str) -> dict:
        for name, requested, maximum in analysis.figures(self.limits):
            if name == violation:
                return too_costly(name, requested, maximum, analysis.cost, self.limits)
        raise ValueError(violation)

    def charge_throttles(
        self, request, root_fields: Dict[str, int]
    ) -> Tuple[Dict[Tuple[str, str], Tuple[int, bool]], bool]:
        """Count the throttled fields' calls; (verdicts, whether to refuse all)."""
        counts: Dict[str, int] = {}
        for name, bucket in THROTTLED_FIELDS.items():
            if root_fields.get(name):
                counts[bucket] = counts.get(bucket, 0) + root_fields[name]
        calls: List[Tuple[str, int]] = list(counts.items())
        if not calls:
            return {}, False
        limit = get_settings().verifications_per_minute
        client = throttle.client_id(request)
        verdicts = {}
        refuse = False
        for bucket, count in calls:
            allowed = throttle.allow(bucket, client, limit, cost=count)
            verdicts[(bucket, client)] = (count, allowed)
            # One call over the budget is answered by its own field (a typed
            # THROTTLED error, as before); several are refused together.
            refuse = refuse or (not allowed and count > 1)
        return verdicts, refuse
