from django.urls import path

from . import views

urlpatterns = [
    path("api/manifest", views.manifest_view, name="aftersales-app-manifest"),
    path("api/register", views.register, name="aftersales-app-register"),
    path("api/webhooks", views.webhooks, name="aftersales-app-webhooks"),
]
