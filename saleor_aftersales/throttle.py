"""Fixed-window rate limits in Redis, per client, for public endpoints."""

import ipaddress
import logging
import time
from functools import lru_cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


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


def allow(bucket: str, client: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one call; False once ``client`` made more than ``limit`` this window.

    If Redis can't be reached the call is allowed (and logged): a public check
    being available matters more than its rate limit.
    """
    prefix = getattr(settings, "AFTERSALES_THROTTLE_PREFIX", "aftersales")
    window = int(time.time() // window_seconds)
    key = f"{prefix}:throttle:{bucket}:{client}:{window}"
    try:
        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, window_seconds * 2)
        count, _ = pipe.execute()
    except redis.RedisError:
        logger.warning("Rate limit store unavailable; allowing %s", bucket)
        return True
    return count <= limit
