from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from ...graphql.schema import schema
from ...graphql.view import GraphQLView
from . import views

urlpatterns = [
    path("api/manifest", views.manifest_view, name="aftersales-app-manifest"),
    path("api/register", views.register, name="aftersales-app-register"),
    path("api/webhooks", views.webhooks, name="aftersales-app-webhooks"),
    # The plugin's API, the same contract, for storefronts and the app's pages.
    path("graphql/", csrf_exempt(GraphQLView.as_view(schema=schema)), name="api"),
]
