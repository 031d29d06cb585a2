"""The app's /graphql/ endpoint: the HTTP side of a GraphQL request as Saleor's
view does it (JSON, batches, multipart uploads, CORS, errors with
``extensions.exception.code``), with the caller named by the Saleor token they
bring (``identity.py``). ``graphql/view.py`` adds the cost and throttle checks
on top, as it does to Saleor 2.10's view."""

import json
import logging
from typing import Optional, Tuple

import jwt
from django.conf import settings
from django.http import HttpResponseNotAllowed, JsonResponse
from django.views import View
from graphql import get_default_backend
from graphql.error import GraphQLError, GraphQLSyntaxError
from graphql.error import format_error as format_graphql_error
from graphql.execution import ExecutionResult

from ... import port
from . import shop, tenancy
from .identity import NotAuthenticated, viewer_from_token
from .models import SaleorShop

logger = logging.getLogger(__name__)

# Exceptions that are the caller's doing, logged without alarm.
HANDLED = (GraphQLError,)


def missing_operation(error: BaseException) -> Optional[str]:
    """The port's operation the app's host doesn't offer yet, if that is what
    failed (``shop.py`` implements the port operation by operation)."""
    if (
        isinstance(error, AttributeError)
        and getattr(error, "obj", None) is shop
        and hasattr(port.Shop, getattr(error, "name", None) or "")
    ):
        return error.name
    return None


def bearer_token(request) -> Optional[str]:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() in ("bearer", "jwt") and token.strip():
        return token.strip()
    return None


def _issuer(token: str) -> str:
    """The Saleor a token says issued it (checked when the token is verified)."""
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return ""
    return issuer if isinstance(issuer, str) else ""


def shop_of(request, token: Optional[str]) -> Optional[SaleorShop]:
    """The Saleor the request is for: the one that issued the caller's token,
    else the one it names (``Saleor-Api-Url``, as Saleor's Dashboard does), else
    the only one the app serves."""
    named = (_issuer(token) if token else "") or request.headers.get(
        "Saleor-Api-Url", ""
    )
    if named:
        return tenancy.shop_named(named)
    return tenancy.only_shop()


def authenticate(request, shop: SaleorShop, token: Optional[str]) -> Optional[dict]:
    """Set ``request.user`` (a Viewer, or None for a guest) and ``request.app``;
    an error to answer instead when the token is no good."""
    request.user, request.app = None, None
    if token is None:
        return None
    try:
        request.user = viewer_from_token(shop, token)
    except NotAuthenticated as error:
        logger.info("Refused a token: %s", error)
        return {"message": "Invalid or expired token.", "code": "InvalidTokenError"}
    return None


def _set_variable(operations: dict, path: str, value: str) -> None:
    """Put a multipart part's name where the ``map`` points (``variables.file``)."""
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    target = operations
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value


class GraphQLView(View):
    schema = None
    backend = None

    def __init__(self, schema=None, **kwargs):
        super().__init__(**kwargs)
        self.schema = schema or self.schema
        self.backend = get_default_backend()

    def dispatch(self, request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = JsonResponse({}, status=200)
        elif request.method == "POST":
            response = self.handle_query(request)
        else:
            return HttpResponseNotAllowed(["OPTIONS", "POST"])
        # Storefronts and the Dashboard call from their own origins.
        response["Access-Control-Allow-Origin"] = getattr(
            settings, "APP_ALLOWED_GRAPHQL_ORIGINS", "*"
        )
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response[
            "Access-Control-Allow-Headers"
        ] = "Origin, Content-Type, Accept, Authorization, Saleor-Api-Url"
        return response

    def handle_query(self, request):
        token = bearer_token(request)
        shop = shop_of(request, token)
        if shop is None and token is not None:
            # Signed by no Saleor the app serves (or not a token at all).
            return self.refuse(401, "Invalid or expired token.", "InvalidTokenError")
        if shop is None:
            return self.refuse(
                400,
                "Name the Saleor this is for (the Saleor-Api-Url header).",
                "UnknownSaleor",
            )
        with tenancy.serving(shop):
            refusal = authenticate(request, shop, token)
            if refusal is not None:
                return self.refuse(401, refusal["message"], refusal["code"])
            return self._handle_query(request)

    @staticmethod
    def refuse(status: int, message: str, code: str):
        error = {"message": message, "extensions": {"exception": {"code": code}}}
        return JsonResponse({"errors": [error]}, status=status)

    def _handle_query(self, request):
        try:
            data = self.parse_body(request)
        except ValueError:
            return JsonResponse(
                {"errors": [self.format_error("Unable to parse query.")]}, status=400
            )
        if isinstance(data, list):
            responses = [self.get_response(request, entry) for entry in data]
            status = max((code for _result, code in responses), default=200)
            return JsonResponse(
                [result for result, _code in responses], status=status, safe=False
            )
        result, status = self.get_response(request, data)
        return JsonResponse(result, status=status, safe=False)

    def parse_body(self, request):
        content_type = request.content_type
        if content_type == "application/json":
            return json.loads(request.body.decode("utf-8"))
        if content_type == "application/graphql":
            return {"query": request.body.decode("utf-8")}
        if content_type == "multipart/form-data":
            return request.POST
        return {}

    @staticmethod
    def get_graphql_params(request, data) -> Tuple[object, object, object]:
        if not isinstance(data, dict) and not hasattr(data, "getlist"):
            raise ValueError("An operation must be an object.")
        query = data.get("query")
        variables = data.get("variables")
        operation_name = data.get("operationName")
        if request.content_type == "multipart/form-data":
            operations = json.loads(data.get("operations") or "{}")
            for part, paths in json.loads(data.get("map") or "{}").items():
                for path in paths:
                    _set_variable(operations, path, part)
            query = operations.get("query")
            variables = operations.get("variables")
            operation_name = operations.get("operationName")
        if isinstance(variables, str):
            variables = json.loads(variables)
        return query, variables, operation_name

    def parse_query(self, query):
        if not query or not isinstance(query, str):
            return None, ExecutionResult(
                errors=[ValueError("Must provide a query string.")], invalid=True
            )
        try:
            return self.backend.document_from_string(self.schema, query), None
        except (ValueError, GraphQLSyntaxError) as error:
            return None, ExecutionResult(errors=[error], invalid=True)

    def execute_graphql_request(self, request, data):
        try:
            query, variables, operation_name = self.get_graphql_params(request, data)
        except (ValueError, TypeError, KeyError, IndexError) as error:
            return ExecutionResult(errors=[error], invalid=True)
        document, error = self.parse_query(query)
        if error:
            return error
        try:
            return document.execute(
                variables=variables,
                operation_name=operation_name,
                context=request,
            )
        except Exception as error:  # as Saleor's view: an answer, never a 500
            # Resolvers' errors come back in the result: what is raised here
            # is the caller's document or variables that a scalar can't read
            # (graphene's UUID and Date raise ValueError, IndexError, ...),
            # refused as what it is rather than reported as the app failing.
            logger.info("Refused a document: %r", error)
            return ExecutionResult(errors=[GraphQLError(str(error))], invalid=True)

    def get_response(self, request, data):
        result = self.execute_graphql_request(request, data)
        response = {}
        if result.errors:
            response["errors"] = [self.format_error(e) for e in result.errors]
        if result.invalid:
            return response, 400
        response["data"] = result.data
        return response, 200

    @classmethod
    def format_error(cls, error):
        if isinstance(error, GraphQLError):
            result = format_graphql_error(error)
        else:
            result = {"message": str(error)}
        cause = error
        while isinstance(cause, GraphQLError) and getattr(
            cause, "original_error", None
        ):
            cause = cause.original_error
        missing = missing_operation(cause)
        if missing:
            # Not a traceback: a GraphQL error that says what is wrong, the
            # step having asked the shop for what this host can't do yet.
            logger.warning("The app's host has no %s yet", missing)
            result["message"] = (
                "This shop's after-sales app can't do that yet (the host has no "
                f"`{missing}`)."
            )
            cause = GraphQLError(result["message"])
        elif not isinstance(cause, (HANDLED, str)):
            logger.error("A query failed unexpectedly", exc_info=cause)
        result["extensions"] = {"exception": {"code": type(cause).__name__}}
        return result
