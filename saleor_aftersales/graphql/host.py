"""The GraphQL parts of the host this process runs in: the module ``api`` beside
the host's shop module (``AFTERSALES_HOST``).

The API's types, mutations and queries are the same on every host; what they are
built on is the host's. ``hosts/saleor2/api.py`` hands over Saleor 2.10's own
base classes and its Order, OrderLine, User, ProductVariant and ProductType types:
the schema extends Saleor's. ``hosts/saleor3/api.py`` has the app's own, and
types by those names drawn from the order copy: the schema stands alone, with the
same type, field and error-code names. Either also looks up the host's records
behind the IDs a client sends.
"""

import importlib

from ..port import host_name

api = importlib.import_module(host_name().rpartition(".")[0] + ".api")
