"""The plugin's list fields: Saleor's connections, with a clear answer to a bad page.

Saleor answers a page it can't serve with whatever its parser raised: an
AssertionError for too many records, a base64 or UTF-8 decoding error for a
cursor it didn't make. The plugin's lists check the page first and refuse it with
a GraphQL error that says what is wrong.
"""

from graphql.error import GraphQLError

from .host import api


def check_page(args: dict, field_name: str, max_limit: int) -> None:
    for name in ("first", "last"):
        size = args.get(name)
        if size is not None and not 0 <= size <= max_limit:
            raise GraphQLError(
                f"`{name}` on `{field_name}` must be between 0 and {max_limit}."
            )
    for name in ("after", "before"):
        cursor = args.get(name)
        if cursor is None:
            continue
        try:
            values = api.from_global_cursor(cursor)
        except ValueError:  # base64, UTF-8 and JSON errors all are
            values = None
        if not isinstance(values, list) or not all(
            value is None or isinstance(value, str) for value in values
        ):
            raise GraphQLError(f"`{name}` is not a cursor of `{field_name}`.")


class CheckedPages:
    def get_resolver(self, parent_resolver):
        resolve = super().get_resolver(parent_resolver)
        max_limit = self.max_limit

        def resolve_checked(root, info, **args):
            check_page(args, info.field_name, max_limit)
            return resolve(root, info, **args)

        return resolve_checked


class PrefetchingConnectionField(CheckedPages, api.PrefetchingConnectionField):
    pass


class FilterInputConnectionField(CheckedPages, api.FilterInputConnectionField):
    pass
