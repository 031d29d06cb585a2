"""The core's tests run in the main suite (Saleor 2.10's settings, the 2.10 host
configured) and alone on Python 3.12 with ``tests/core/settings.py`` (no host).
They use only the core's own tables and must not reach a host either way."""

import pytest


@pytest.fixture(autouse=True)
def no_host(settings):
    """The shop is out of reach in every core test, on both stacks."""
    from saleor_aftersales import port

    settings.AFTERSALES_HOST = ""
    loaded = port._Registered._module
    port._Registered._module = None
    yield
    port._Registered._module = loaded
