"""The portal and the console served by the app: the same pages as on Saleor
2.10, told where Saleor's API is (they sign in there and read a shopper's
orders) and which app's Dashboard token the desk works with. The Dashboard shows
the console as an app page (the manifest's extension), so Saleor's origin may
frame them."""

from typing import Iterator, Tuple
from urllib.parse import urlparse

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
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
def claims_export(request, token):
    """The claims' CSV by its signed link: the link names the shop it was asked
    in, so it opens in that shop's schema only, and the file, read from the
    database while it goes out, is read there too (the schema is chosen
    again for each piece: under ASGI each runs as a call of its own)."""
    for shop in SaleorShop.objects.order_by("pk"):
        with tenancy.serving(shop):
            try:
                response = views.claims_export(request, token)
            except Http404:
                continue
        pieces = iter(response.streaming_content)
        if isinstance(request, ASGIRequest):
            response.streaming_content = _async_pieces(shop, pieces)
        else:
            response.streaming_content = _pieces(shop, pieces)
        return response
    raise Http404


_END = object()


def _next_piece(shop: SaleorShop, pieces: Iterator[bytes]):
    with tenancy.serving(shop):
        return next(pieces, _END)


def _pieces(shop: SaleorShop, pieces: Iterator[bytes]) -> Iterator[bytes]:
    while True:
        piece = _next_piece(shop, pieces)
        if piece is _END:
            return
        yield piece


async def _async_pieces(shop: SaleorShop, pieces: Iterator[bytes]):
    """Django would read a synchronous stream whole before sending it under
    ASGI: each piece is read in the request's thread (its connection, its
    server-side cursor) as it is sent."""
    next_piece = sync_to_async(_next_piece, thread_sensitive=True)
    while True:
        piece = await next_piece(shop, pieces)
        if piece is _END:
            return
        yield piece


@require_GET
def home(request):
    """The app's URL in Saleor (``appUrl``): the desk."""
    return redirect("aftersales-console")
