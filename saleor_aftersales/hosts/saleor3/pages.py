"""The portal and the console served by the app: the same pages as on Saleor
2.10, told where Saleor's API is (they sign in there and read a shopper's
orders) and which app's Dashboard token the desk works with. The Dashboard shows
the console as an app page (the manifest's extension), so Saleor's origin may
frame them."""

from typing import Tuple
from urllib.parse import urlparse

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from ... import views
from . import tenancy
from .models import SaleorShop


def _saleor(request) -> Tuple[str, str]:
    """(Saleor's API URL, the app's id there): the Saleor the page is opened for
    (``?saleorApiUrl=``, as the Dashboard opens app pages), else the only one the
    app serves; before any installation the first allowed, and no app."""
    named = request.GET.get("saleorApiUrl", "")
    shop = tenancy.shop_named(named)
    if shop is None and not named:
        shop = tenancy.only_shop()
    if shop is not None:
        return shop.api_url, shop.app_id
    return (settings.SALEOR_API_URLS or [""])[0], ""


def _origin(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def _page(request, script: str):
    api_url, app_id = _saleor(request)
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
def photo(request, token):
    """A claim photo's signed link: its id names one photo in every shop's
    schema (one sequence for all, tenancy.PHOTO_IDS)."""
    for shop in SaleorShop.objects.order_by("pk"):
        with tenancy.serving(shop):
            try:
                return views.photo(request, token)
            except Http404:
                continue
    raise Http404


@require_GET
def return_slip(request, token):
    """A return slip's signed link: it names a claim by its id and creation time,
    so in one shop's schema only; the slip is drawn serving that shop (its
    return address is read from that Saleor)."""
    for shop in SaleorShop.objects.order_by("pk"):
        with tenancy.serving(shop):
            try:
                return views.return_slip(request, token)
            except Http404:
                continue
    raise Http404


@require_GET
def home(request):
    """The app's URL in Saleor (``appUrl``): the desk."""
    return redirect("aftersales-console")
