"""Fixed-window rate limits in Redis, per client, for public endpoints."""

import ipaddress
import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Dict, Optional, Tuple

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# The buckets: the public warranty check and the guest order look-up, per client;
# the look-up per mailbox too.
WARRANTY_VERIFY = "warranty-verify"
ORDER_LOOKUP = "order-lookup"
ORDER_LOOKUP_EMAIL = "order-lookup-email"


@lru_cache(maxsize=1)
def _redis() -> "redis.Redis":
    url = getattr(settings, "AFTERSALES_REDIS_URL", "redis://127.0.0.1:6379/0")
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def client_id(request) -> str:
    """The caller's address as Saleor reads it (REAL_IP_ENVIRON behind proxies).

    Of a forwarded chain only the last hop, the one the shop's own proxy added,
    counts (the rest is whatever the client sent); IPv6 clients are counted per
    /64, the block one subscriber gets.
    """
    header = getattr(settings, "REAL_IP_ENVIRON", "REMOTE_ADDR")
    raw = request.META.get(header) or request.META.get("REMOTE_ADDR") or ""
    candidate = raw.split(",")[-1].strip()
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# Calls a request paid for before it ran (see ``prepaid``): (bucket, client) ->
# [calls left, verdict].
_prepaid: ContextVar[Optional[Dict[Tuple[str, str], list]]] = ContextVar(
    "aftersales_throttle_prepaid", default=None
)


@contextmanager
def prepaid(verdicts: Dict[Tuple[str, str], Tuple[int, bool]]):
    """Within the block, the first ``calls`` calls of ``allow(bucket, client, ...)``
    answer ``verdict`` without counting again: the GraphQL view counted every
    alias of a throttled field at once before running the document (one alias,
    one count). Calls beyond those are counted as usual."""
    token = _prepaid.set(
        {key: [calls, verdict] for key, (calls, verdict) in verdicts.items()}
    )
    try:
        yield
    finally:
        _prepaid.reset(token)


def allow(
    bucket: str, client: str, limit: int, window_seconds: int = 60, cost: int = 1
) -> bool:
    """Count ``cost`` calls; False once ``client`` made more than ``limit`` this
    window.

    If Redis can't be reached the call is allowed (and logged): a public check
    being available matters more than its rate limit.
    """
    paid = (_prepaid.get() or {}).get((bucket, client))
    if paid is not None and paid[0] >= cost:
        paid[0] -= cost
        return paid[1]
    prefix = getattr(settings, "AFTERSALES_THROTTLE_PREFIX", "aftersales")
    window = int(time.time() // window_seconds)
    key = f"{prefix}:throttle:{bucket}:{client}:{window}"
    try:
        pipe = _redis().pipeline()
        pipe.incrby(key, cost)
        pipe.expire(key, window_seconds * 2)
        count, _ = pipe.execute()
    except redis.RedisError:
        logger.warning("Rate limit store unavailable; allowing %s", bucket)
        return True
    return count <= limit
