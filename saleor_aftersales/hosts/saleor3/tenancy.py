"""Several Saleors, one app database.

The core knows no shops: its rows (order copies, claims, refunds, cards,
webhooks) don't name one. So each Saleor the app serves keeps them in a
PostgreSQL schema of its own, named after its API URL (a reinstall finds its
history again); what names shops (``SaleorShop``, the calls owed to each) stays
in ``public``. Work for a shop runs ``with serving(shop)``: the connection's
search path puts the shop's schema first, so every query of the core reads and
writes that shop's rows, and no other's.

Who sets the shop: the GraphQL view (the Saleor that issued the caller's token,
or the one the request names), Saleor's webhooks (the Saleor that signed them),
registration, and the sweeper (each shop in turn).
"""

import contextvars
import hashlib
import re
from contextlib import contextmanager
from typing import Iterator, Optional

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.backends.signals import connection_created
from django.db.migrations.executor import MigrationExecutor

from .models import SaleorShop

CORE_APP = "saleor_aftersales"
# Photo links are signed with the photo's id and shown without knowing the shop:
# every shop's photos draw their ids from one sequence, so an id names one photo.
PHOTO_IDS = "public.aftersales_photo_ids"

_current: contextvars.ContextVar[Optional[SaleorShop]] = contextvars.ContextVar(
    "aftersales_shop", default=None
)
_preparing: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aftersales_preparing", default=False
)


class CoreInShopSchemas:
    """A database router: the core's tables are made only in shops' schemas
    (``prepare``), never in ``public``, so a query outside any shop fails
    instead of reading rows of no shop."""

    def allow_migrate(self, db, app_label, **hints):
        if app_label == CORE_APP:
            return _preparing.get()
        return None


def schema_of(shop: SaleorShop) -> str:
    return "shop_" + hashlib.sha256(shop.api_url.encode()).hexdigest()[:20]


def _search_path(schema: Optional[str]) -> str:
    if schema is None:
        return "public"
    assert re.fullmatch(r"shop_[0-9a-f]{20}", schema)
    return f'"{schema}", public'


def _apply(schema: Optional[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET search_path TO {_search_path(schema)}")


def _on_connect(sender, connection, **kwargs):
    """A connection opened while serving a shop serves that shop."""
    shop = _current.get()
    if shop is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET search_path TO {_search_path(schema_of(shop))}")


connection_created.connect(_on_connect, dispatch_uid="aftersales_tenancy")


def current() -> SaleorShop:
    """The Saleor the work at hand is for."""
    shop = _current.get()
    if shop is None:
        raise ImproperlyConfigured(
            "No Saleor is being served here (tenancy.serving(shop) sets one)."
        )
    return shop


@contextmanager
def serving(shop: SaleorShop) -> Iterator[SaleorShop]:
    """Work for ``shop``: the core's rows are its own until the block ends."""
    previous = _current.get()
    token = _current.set(shop)
    _apply(schema_of(shop))
    try:
        yield shop
    finally:
        _current.reset(token)
        _apply(schema_of(previous) if previous is not None else None)


def shop_named(api_url: str) -> Optional[SaleorShop]:
    return SaleorShop.objects.filter(api_url=api_url).first() if api_url else None


def only_shop() -> Optional[SaleorShop]:
    """The Saleor the app serves when it serves just one; None otherwise."""
    shops = list(SaleorShop.objects.all()[:2])
    return shops[0] if len(shops) == 1 else None


def prepare(shop: SaleorShop) -> None:
    """The shop's schema with the core's tables, migrated to the latest (on
    registration, before the shop is saved; quick when it exists already)."""
    schema = schema_of(shop)
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {PHOTO_IDS}")
        # Only the shop's schema while migrating: its own migration records,
        # nothing of public's taken for done.
        cursor.execute(f'SET search_path TO "{schema}"')
    preparing = _preparing.set(True)
    try:
        executor = MigrationExecutor(connection)
        targets = [
            key for key in executor.loader.graph.leaf_nodes() if key[0] == CORE_APP
        ]
        executor.migrate(targets)
        photos = apps.get_model(CORE_APP, "AftersalesPhoto")._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f'ALTER TABLE "{schema}"."{photos}"'
                " ALTER COLUMN id DROP IDENTITY IF EXISTS,"
                f" ALTER COLUMN id SET DEFAULT nextval('{PHOTO_IDS}')"
            )
    finally:
        _preparing.reset(preparing)
        current_shop = _current.get()
        _apply(schema_of(current_shop) if current_shop is not None else None)


def empty(shop: SaleorShop) -> None:
    """Every core row of the shop gone (tests start each shop afresh)."""
    schema = schema_of(shop)
    tables = [
        model._meta.db_table for model in apps.get_app_config(CORE_APP).get_models()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE "
            + ", ".join(f'"{schema}"."{table}"' for table in tables)
            + " RESTART IDENTITY CASCADE"
        )
