"""The pages (portal for shoppers, console for the desk), their assets, and the
signed links that show claim photos. The pages are static: everything they show
comes from the plugin's GraphQL API, with the viewer's own token."""

from pathlib import Path

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import photos

ASSETS = Path(__file__).resolve().parent / "static" / "aftersales"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
# The pages load nothing from elsewhere; the API is this origin's /graphql/.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _secured(response):
    for name, value in SECURITY_HEADERS.items():
        response[name] = value
    return response


def _page(request, script: str):
    return _secured(render(request, "aftersales/page.html", {"script": script}))


@require_GET
def portal(request):
    return _page(request, "portal.js")


@require_GET
def console(request):
    return _page(request, "console.js")


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
