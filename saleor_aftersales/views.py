"""The pages (portal for shoppers, console for the desk), their assets, and the
signed links that show claim photos, return slips and the claims' CSV export. The pages are static: everything they show
comes from the plugin's GraphQL API, with the viewer's own token."""

from pathlib import Path

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from graphql.error import GraphQLError

from . import exports, photos, slips
from .graphql.schema import requests_matching

ASSETS = Path(__file__).resolve().parent / "static" / "aftersales"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}


def security_headers(connect=(), frame_ancestors=("'none'",)) -> dict:
    """The pages load nothing from elsewhere; they talk to this origin's
    /graphql/ and, where the host says so, to Saleor's API (the app's pages sign
    in there); only the host's Dashboard may frame them. They send no Referer:
    a sign-in link's address must go nowhere."""
    connect_sources = " ".join(("'self'",) + tuple(connect))
    return {
        "Content-Security-Policy": (
            "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
            f"script-src 'self'; connect-src {connect_sources}; "
            f"frame-ancestors {' '.join(frame_ancestors)}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


SECURITY_HEADERS = security_headers()


def _secured(response, headers=SECURITY_HEADERS):
    for name, value in headers.items():
        response[name] = value
    return response


# What each page loads after common.js: the console's analytics view draws its
# charts with charts.js, in analytics.js.
SCRIPTS = {"console.js": ("charts.js", "analytics.js", "console.js")}


def page(request, script: str, *, saleor_api="", app_id="", headers=SECURITY_HEADERS):
    """A page: ``saleor_api`` is where it signs in and reads the shopper's
    orders (this origin's /graphql/ when empty, as on Saleor 2.10); ``app_id``
    the app whose Dashboard token the desk works with (the Saleor 3.23 app)."""
    context = {
        "scripts": SCRIPTS.get(script, (script,)),
        "saleor_api": saleor_api,
        "app_id": app_id,
    }
    return _secured(render(request, "aftersales/page.html", context), headers)


@require_GET
def portal(request):
    return page(request, "portal.js")


@require_GET
def console(request):
    return page(request, "console.js")


@require_GET
def asset(request, name):
    path = ASSETS / name
    if path.suffix not in CONTENT_TYPES or path.parent != ASSETS or not path.is_file():
        raise Http404
    response = HttpResponse(path.read_bytes(), content_type=CONTENT_TYPES[path.suffix])
    response["Cache-Control"] = "no-cache"
    return _secured(response)


@require_GET
def photo(request, token):
    found = photos.file_for_token(token)
    if found is None:
        raise Http404
    file, content_type = found
    response = FileResponse(file.open("rb"), content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=600"
    return _secured(response)


@require_GET
def return_slip(request, token):
    """A claim's return slip by its signed link, in the language the link asks
    for (``?language=``), else the one the browser prefers."""
    found = slips.claim_for_token(token)
    if found is None:
        raise Http404
    claim, paper = found
    language = request.GET.get("language") or request.META.get(
        "HTTP_ACCEPT_LANGUAGE", ""
    )
    pdf = slips.render(slips.slip_for(claim, language), paper)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{claim.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    _secured(response)
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def claims_export(request, token):
    """The claims a queue filter lets through, as CSV, by the signed link
    ``aftersalesExportUrl`` gave: streamed, read in chunks as it goes out."""
    filter_ = exports.filter_for_token(token)
    if filter_ is None:
        raise Http404
    try:
        claims = requests_matching(filter_)
    except GraphQLError:
        raise Http404
    response = StreamingHttpResponse(
        exports.csv_chunks(claims), content_type="text/csv; charset=utf-8"
    )
    response[
        "Content-Disposition"
    ] = f'attachment; filename="{exports.filename(timezone.now())}"'
    response["Cache-Control"] = "private, no-store"
    return _secured(response)
