from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from ... import views as shared_views
from ...graphql.schema import schema
from ...graphql.view import GraphQLView
from . import pages, views

urlpatterns = [
    path("api/manifest", views.manifest_view, name="aftersales-app-manifest"),
    path("api/register", views.register, name="aftersales-app-register"),
    path("api/webhooks", views.webhooks, name="aftersales-app-webhooks"),
    # The plugin's API, the same contract, for storefronts and the app's pages.
    path("graphql/", csrf_exempt(GraphQLView.as_view(schema=schema)), name="api"),
    path("", pages.home, name="aftersales-home"),
    path("aftersales/portal/", pages.portal, name="aftersales-portal"),
    path("aftersales/console/", pages.console, name="aftersales-console"),
    re_path(
        r"^aftersales/assets/(?P<name>[a-z-]+\.(?:js|css))$",
        shared_views.asset,
        name="aftersales-asset",
    ),
    re_path(
        r"^aftersales/photos/(?P<token>[\w:-]+)/$",
        pages.photo,
        name="aftersales-photo",
    ),
    re_path(
        r"^aftersales/slips/(?P<token>[\w:-]+)/$",
        pages.return_slip,
        name="aftersales-return-slip",
    ),
    re_path(
        r"^aftersales/exports/claims/(?P<token>[\w:.-]+)/$",
        pages.claims_export,
        name="aftersales-claims-export",
    ),
]
