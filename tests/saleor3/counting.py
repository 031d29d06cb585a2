"""What one HTTP request to the app costs inside the app's process: its SQL
queries and its calls to Saleor (``hosts/saleor3/client.py``), including the
calls owed to Saleor that run after the step commits, still in the request.

A request is counted when it carries the header ``X-Aftersales-Count: <key>``
and the app serves it in this process (the live server's threads, the
benchmark's server thread). Requests without it (Saleor's webhooks arriving
meanwhile, in other threads) are not counted. The counts are Django's
``execute_wrapper`` on the serving thread's connection, between Django's
``request_started`` and ``request_finished``: statements through Django's
cursors, as ``CaptureQueriesContext`` counts them (BEGIN and COMMIT are not
statements there).
"""

import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Dict, List

from django.core.signals import request_finished, request_started
from django.db import connection

from saleor_aftersales.hosts.saleor3 import client

HEADER = "X-Aftersales-Count"
_ENVIRON_KEY = "HTTP_" + HEADER.upper().replace("-", "_")
# The serving thread's counts (none when its request isn't counted).
_current = threading.local()


@dataclass
class Counts:
    sql: int = 0
    saleor: int = 0
    # The operation names of the Saleor calls, in order (what the calls were).
    saleor_operations: List[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


_results: Dict[str, Counts] = {}
_lock = threading.Lock()


def _count_sql(execute, sql, params, many, context):
    counts = getattr(_current, "counts", None)
    if counts is not None:
        counts.sql += 1
    return execute(sql, params, many, context)


def _operation_name(query: str) -> str:
    """The document's operation name, or for an anonymous one its kind and first
    field ("query payment"); fragments before it are skipped."""
    match = re.search(r"\b(query|mutation)\b\s*(\w*)", query)
    if match and match.group(2):
        return match.group(2)
    field = re.search(r"\{\s*(\w+)", query[match.end() :] if match else query)
    kind = match.group(1) if match else "query"
    return f"{kind} {field.group(1)}" if field else kind


def _count_saleor_call(query: str) -> None:
    counts = getattr(_current, "counts", None)
    if counts is not None:
        counts.saleor += 1
        counts.saleor_operations.append(_operation_name(query))


def _started(sender, environ=None, **kwargs):
    key = (environ or {}).get(_ENVIRON_KEY)
    if not key:
        return
    counts = Counts()
    with _lock:
        _results[key] = counts
    _current.counts = counts
    _current.key = key
    connection.execute_wrappers.append(_count_sql)


def _finished(sender, **kwargs):
    counts = getattr(_current, "counts", None)
    if counts is None:
        return
    if _count_sql in connection.execute_wrappers:
        connection.execute_wrappers.remove(_count_sql)
    _current.counts = None
    counts.done.set()


_installed = False


def install() -> None:
    """Count the requests that ask for it (once per process)."""
    global _installed
    if _installed:
        return
    request_started.connect(_started, dispatch_uid="aftersales-count-started")
    request_finished.connect(_finished, dispatch_uid="aftersales-count-finished")
    client.observers.append(_count_saleor_call)
    _installed = True


def new_key() -> str:
    return uuid.uuid4().hex


def counts_of(key: str, timeout: float = 30) -> Counts:
    """The counts of the request sent with ``key``, once the app has finished it
    (its response may reach the client just before ``request_finished``)."""
    with _lock:
        counts = _results.get(key)
    if counts is None:
        raise LookupError(f"no counted request {key} (is the app in this process?)")
    if not counts.done.wait(timeout):
        raise TimeoutError(f"request {key} not finished within {timeout} s")
    with _lock:
        _results.pop(key, None)
    return counts
