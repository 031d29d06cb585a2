"""A real browser for the pages' tests on both hosts: Debian's Chromium driven by
Playwright (bin/bootstrap installs it)."""

import os
import time
from pathlib import Path

import pytest
from django.db import connection

CHROMIUM = os.environ.get("AFTERSALES_CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1366, "height": 768}

# Playwright's sync API keeps an event loop on this thread; the test's own ORM
# calls are synchronous all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run bin/bootstrap.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


def wait_until(page, expression: str, seconds: float = 60) -> None:
    """Poll ``expression`` in the page until it is true. (From here: the pages'
    CSP forbids the eval an in-page ``wait_for_function`` polls with, so that
    fails whenever its first try is false.)"""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"{expression} did not hold"
        page.wait_for_timeout(50)


# Contexts opened by the test running now, closed before its tables are emptied.
_OPEN_CONTEXTS = []
QUIET_SECONDS = 60


def _database_busy() -> bool:
    """Whether another connection to the test database is inside a query or a
    transaction (a page's last request, a worker's task)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname ="
            " current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
        )
        return cursor.fetchone()[0] > 0


@pytest.fixture
def pages_closed_before_flush(transactional_db):
    """After the test, its pages are closed and their last requests (and any
    worker's task) have finished before the tables are emptied: emptying them
    under a request that still reads them deadlocks."""
    yield
    while _OPEN_CONTEXTS:
        _OPEN_CONTEXTS.pop().close()
    deadline = time.monotonic() + QUIET_SECONDS
    while _database_busy() and time.monotonic() < deadline:
        time.sleep(0.1)


def open_page(browser, url, locale="en-US", viewport=DESKTOP):
    """A page in a fresh context; ``page.problems`` collects its script errors."""
    context = browser.new_context(locale=locale, viewport=viewport)
    _OPEN_CONTEXTS.append(context)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: message.type == "error" and problems.append(message.text),
    )
    page.goto(url)
    page.problems = problems
    return page
