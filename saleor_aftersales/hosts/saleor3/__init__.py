"""The Saleor 3.23 host: the after-sales app, a service of its own beside a shop's
Saleor. Saleor installs it from its manifest (``/api/manifest``) and hands it an app
token (``/api/register``); Saleor's webhooks, signed with the shop's key, keep the
core's copy of each order current (``/api/webhooks``)."""
