from django.conf.urls import include, url
from django.views.decorators.csrf import csrf_exempt

from .hosts.saleor2.api import saleor_urls
from . import views as pages
from .graphql.schema import schema
from .graphql.view import GraphQLView
from .webhooks import views

urlpatterns = [
    # Same route and name as Saleor's own: its app-token middleware looks up
    # reverse("api"), and storefronts keep using /graphql/. Saleor's view, which
    # refuses documents too costly to run first (graphql/view.py).
    url(r"^graphql/", csrf_exempt(GraphQLView.as_view(schema=schema)), name="api"),
    url(
        r"^aftersales/webhooks/logistics/$",
        views.logistics_webhook,
        name="aftersales-webhook-logistics",
    ),
    url(
        r"^aftersales/webhooks/stripe/$",
        views.stripe_webhook,
        name="aftersales-webhook-stripe",
    ),
    url(r"^aftersales/portal/$", pages.portal, name="aftersales-portal"),
    url(r"^aftersales/console/$", pages.console, name="aftersales-console"),
    url(
        r"^aftersales/assets/(?P<name>[a-z-]+\.(?:js|css))$",
        pages.asset,
        name="aftersales-asset",
    ),
    url(
        r"^aftersales/photos/(?P<token>[\w:-]+)/$",
        pages.photo,
        name="aftersales-photo",
    ),
    url(
        r"^aftersales/slips/(?P<token>[\w:-]+)/$",
        pages.return_slip,
        name="aftersales-return-slip",
    ),
    url(
        r"^aftersales/exports/claims/(?P<token>[\w:.-]+)/$",
        pages.claims_export,
        name="aftersales-claims-export",
    ),
    url(r"^", include(saleor_urls)),
]
