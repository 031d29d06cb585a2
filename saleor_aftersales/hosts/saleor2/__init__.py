"""Saleor 2.10.1, in-process: the plugin (``plugin``), and the port on Saleor's
models, gateway and plugin manager in the caller's transaction (``shop``)."""
