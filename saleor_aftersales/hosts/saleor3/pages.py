"""The portal and the console served by the app: the same pages as on Saleor
2.10, told where Saleor's API is (they sign in there and read a shopper's
orders) and which app's Dashboard token the desk works with. The Dashboard shows
the console as an app page (the manifest's extension), so Saleor's origin may
frame them."""

from typing import Tuple
from urllib.parse import urlparse

from django.conf import settings
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from ... import views
from .models import SaleorShop


def _saleor() -> Tuple[str, str]:
    """(Saleor's API URL, the app's id there) once installed; before that the
    first Saleor allowed to install the app, and no app."""
    shop = SaleorShop.objects.first()
    if shop is not None:
        return shop.api_url, shop.app_id
    return (settings.SALEOR_API_URLS or [""])[0], ""


def _origin(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def _page(request, script: str):
    api_url, app_id = _saleor()
    origins = tuple(
        {_origin(u) for u in [api_url, *settings.DASHBOARD_URLS] if _origin(u)}
    )
    headers = views.security_headers(
        connect=origins, frame_ancestors=("'self'",) + origins
    )
    return views.page(
        request, script, saleor_api=api_url, app_id=app_id, headers=headers
    )


@require_GET
def portal(request):
    return _page(request, "portal.js")


@require_GET
def console(request):
    return _page(request, "console.js")


@require_GET
def home(request):
    """The app's URL in Saleor (``appUrl``): the desk."""
    return redirect("aftersales-console")
