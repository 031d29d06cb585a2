"""Saleor's GraphQL API, as this app (its token) or as someone presenting a token."""

from typing import Optional

import requests
from django.conf import settings


class SaleorError(Exception):
    pass


def graphql(api_url: str, token: str, query: str, variables: Optional[dict] = None):
    """``data`` of one GraphQL call; SaleorError on HTTP or GraphQL errors."""
    try:
        response = requests.post(
            api_url,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=settings.SALEOR_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise SaleorError(f"Saleor could not be reached: {type(error).__name__}")
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
