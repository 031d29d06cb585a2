"""Saleor's GraphQL API, as this app (its token) or as someone presenting a token."""

from typing import Callable, List, Optional

import requests
from django.conf import settings


class SaleorError(Exception):
    pass


class SaleorUnreachable(SaleorError):
    """No answer from Saleor (network, timeout, 5xx): worth asking again later."""


class SaleorRefused(SaleorError):
    """Saleor answered a mutation with errors (``errors``: Saleor's list)."""

    def __init__(self, field: str, errors: list):
        super().__init__(f"Saleor refused {field}: {errors}")
        self.errors = errors


# Told each document before it is sent to Saleor: the benchmarks and the query
# count tests count the app's calls to Saleor per request. Empty in production.
observers: List[Callable[[str], None]] = []


def graphql(api_url: str, token: str, query: str, variables: Optional[dict] = None):
    """``data`` of one GraphQL call; SaleorError on HTTP or GraphQL errors."""
    for observe in observers:
        observe(query)
    try:
        response = requests.post(
            api_url,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=settings.SALEOR_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise SaleorUnreachable(f"Saleor could not be reached: {type(error).__name__}")
    if response.status_code >= 500:
        raise SaleorUnreachable(f"Saleor answered HTTP {response.status_code}")
    if response.status_code != 200:
        raise SaleorError(f"Saleor answered HTTP {response.status_code}")
    try:
        content = response.json()
    except ValueError:
        raise SaleorError("Saleor answered no JSON")
    if content.get("errors"):
        codes = [error.get("message", "") for error in content["errors"]]
        raise SaleorError(f"Saleor refused: {codes}")
    return content.get("data") or {}


def ask(shop, query: str, variables: Optional[dict] = None) -> dict:
    """``data`` of one GraphQL call to ``shop``'s Saleor, with the app's token."""
    return graphql(shop.api_url, shop.token, query, variables)


def mutate(shop, query: str, variables: dict, field: str) -> dict:
    """The payload of mutation ``field``; SaleorRefused when it holds errors."""
    payload = ask(shop, query, variables).get(field) or {}
    if payload.get("errors"):
        raise SaleorRefused(field, payload["errors"])
    return payload
