"""The API's contract (tests/contract.json) is the plugin's API as it is: the
app's suite holds the Saleor 3.23 app to the same file (tests/saleor3/test_api.py).
After changing the API on purpose, rewrite it: ``python -m tests.contract``."""

from saleor_aftersales.graphql.schema import schema

from . import contract


def test_the_written_contract_is_the_plugins_api():
    assert contract.of_api(schema) == contract.written()
