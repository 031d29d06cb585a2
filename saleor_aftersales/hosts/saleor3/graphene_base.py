"""The app's own GraphQL base classes, where the 2.10 plugin takes Saleor's.

Saleor 3.23 runs graphene 2 without graphene-django, and the app can't import
Saleor anyway (it's another service). These give the API's types, lists and
mutations what Saleor 2.10's gave them, with the same GraphQL names and
behaviour: model types whose listed model fields become fields
(``only_fields``), countable connections (``totalCount``, non-null edges) paged
by cursors over the sort fields, filter and sort inputs built from a FilterSet
and a sort enum, a mutation base that checks ``permissions`` and returns
ValidationErrors as typed errors, per-request data loaders, and the Decimal,
Money, Upload and DateRangeInput types.
"""

import json
from decimal import Decimal, DecimalException
from typing import Dict, List, Optional

import django_filters
import django_filters.fields
import graphene
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from graphene.relay import PageInfo
from graphene.types.inputobjecttype import InputObjectTypeOptions
from graphene.types.mutation import MutationOptions
from graphene.types.objecttype import ObjectTypeOptions
from graphql.error import GraphQLError
from graphql_relay.utils import base64, unbase64
from promise import Promise
from promise.dataloader import DataLoader as PromiseDataLoader

from .identity import has_permission

# As Saleor configures graphene: every list is paged, at most 100 at a time.
MAX_LIMIT = 100


class PermissionDenied(GraphQLError):
    """What Saleor answers a caller who may not do or see something."""

    def __init__(self, message="You do not have permission to perform this action"):
        super().__init__(message)


# Scalars and small types -------------------------------------------------------


class DecimalScalar(graphene.Float):
    """A decimal: a float in answers, a Decimal as typed in arguments."""

    class Meta:
        name = "Decimal"

    @staticmethod
    def parse_literal(node):
        try:
            return Decimal(node.value)
        except (DecimalException, AttributeError):
            return None

    @staticmethod
    def parse_value(value):
        try:
            return Decimal(str(value))
        except DecimalException:
            return None


class Upload(graphene.types.Scalar):
    """A file of a multipart request: the variable holds the name of its part."""

    @staticmethod
    def serialize(value):
        return value

    @staticmethod
    def parse_literal(node):
        return getattr(node, "value", None)

    @staticmethod
    def parse_value(value):
        return value


class MoneyType(graphene.ObjectType):
    currency = graphene.String(description="Currency code.", required=True)
    amount = graphene.Float(description="Amount of money.", required=True)

    class Meta:
        name = "Money"
        description = "Represents amount of money in specific currency."


class DateRangeInput(graphene.InputObjectType):
    gte = graphene.Date(description="Start date.", required=False)
    lte = graphene.Date(description="End date.", required=False)


class OrderDirection(graphene.Enum):
    ASC = ""
    DESC = "-"

    @property
    def description(self):
        return {"ASC": "Ascending order.", "DESC": "Descending order."}[self.name]


class SortInputObjectType(graphene.InputObjectType):
    """A sort input: ``direction`` and ``field`` from the subclass's sort enum,
    each member naming the model fields to order by."""

    direction = graphene.Argument(
        OrderDirection,
        required=True,
        description="Specifies the direction in which to sort.",
    )

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(
        cls, _meta=None, sort_enum=None, type_name=None, **options
    ):
        if not _meta:
            _meta = InputObjectTypeOptions(cls)
        super().__init_subclass_with_meta__(_meta=_meta, **options)
        cls.sort_enum = sort_enum
        if sort_enum and type_name:
            cls._meta.fields["field"] = graphene.InputField(
                sort_enum,
                required=True,
                description=f"Sort {type_name} by the selected field.",
            )


# Filters from a FilterSet -----------------------------------------------------


class _ListField(django_filters.fields.MultipleChoiceField):
    """The list as GraphQL parsed it: its type checked the values already (a
    Django choice field would refuse every value, having no choices)."""

    def to_python(self, value):
        if not value:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def valid_value(self, value):
        return True


class ListObjectTypeFilter(django_filters.MultipleChoiceFilter):
    """A list of the values of a GraphQL enum (``input_class``)."""

    field_class = _ListField

    def __init__(self, input_class, *args, **kwargs):
        self.input_class = input_class
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return self.method(qs, self.field_name, value) if self.method else qs


class ObjectTypeFilter(django_filters.Filter):
    """A GraphQL input object (``input_class``) handed whole to the method."""

    def __init__(self, input_class, *args, **kwargs):
        self.input_class = input_class
        super().__init__(*args, **kwargs)


def _filter_input_field(name: str, filter_field) -> graphene.InputField:
    if isinstance(filter_field, ListObjectTypeFilter):
        return graphene.InputField(graphene.List(filter_field.input_class))
    if isinstance(filter_field, ObjectTypeFilter):
        return graphene.InputField(filter_field.input_class)
    if isinstance(filter_field, django_filters.BooleanFilter):
        return graphene.InputField(graphene.Boolean)
    if isinstance(filter_field, django_filters.CharFilter):
        return graphene.InputField(graphene.String)
    raise TypeError(f"No GraphQL input for the filter {name!r} ({filter_field}).")


class FilterInputObjectType(graphene.InputObjectType):
    """An input object with a field per filter of ``filterset_class``."""

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(cls, _meta=None, filterset_class=None, **options):
        if not _meta:
            _meta = InputObjectTypeOptions(cls)
        _meta.fields = {
            name: _filter_input_field(name, filter_field)
            for name, filter_field in filterset_class.base_filters.items()
        }
        super().__init_subclass_with_meta__(_meta=_meta, **options)
        cls.filterset_class = filterset_class


# Model types and their connections -----------------------------------------------


class CountableConnection(graphene.relay.Connection):
    """A page of a list: non-null edges and the list's ``totalCount``."""

    class Meta:
        abstract = True

    total_count = graphene.Int(description="A total count of items in the collection.")

    @classmethod
    def __init_subclass_with_meta__(cls, node=None, name=None, **options):
        super().__init_subclass_with_meta__(node=node, name=name, **options)
        edge = type(
            cls.Edge._meta.name,
            (graphene.ObjectType,),
            {
                "node": graphene.Field(
                    node, required=True, description="The item at the end of the edge."
                ),
                "cursor": graphene.String(
                    required=True, description="A cursor for use in pagination."
                ),
            },
        )
        cls.Edge = edge
        cls._meta.fields["edges"] = graphene.Field(
            graphene.NonNull(graphene.List(graphene.NonNull(edge)))
        )

    @staticmethod
    def resolve_total_count(root, _info):
        return root.count()


def _model_field(field: models.Field) -> graphene.Field:
    """The GraphQL field graphene-django would make of a model field."""
    required = not field.null
    if isinstance(field, models.AutoField):
        return graphene.ID(required=True)
    if isinstance(field, models.BooleanField):
        return graphene.Boolean(required=required)
    if isinstance(field, models.DateTimeField):
        return graphene.DateTime(required=required)
    if isinstance(field, models.DateField):
        return graphene.Date(required=required)
    if isinstance(field, models.IntegerField):
        return graphene.Int(required=required)
    if isinstance(field, models.DecimalField):
        return graphene.Float(required=required)
    if isinstance(field, models.UUIDField):
        return graphene.UUID(required=required)
    if isinstance(field, (models.CharField, models.TextField)):
        return graphene.String(required=required)
    raise TypeError(f"Declare the field {field.name!r} explicitly.")


class CountableDjangoObjectType(graphene.ObjectType):
    """A model's type: declared fields, plus ``only_fields`` read off the model;
    ``connection`` is its ``<Name>CountableConnection``."""

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(
        cls,
        model=None,
        only_fields=(),
        convert_choices_to_enum=False,
        _meta=None,
        **options,
    ):
        declared = graphene.types.utils.yank_fields_from_attrs(
            {k: v for base in reversed(cls.__mro__) for k, v in vars(base).items()},
            _as=graphene.Field,
        )
        if not _meta:
            _meta = ObjectTypeOptions(cls)
        _meta.fields = {
            name: _model_field(model._meta.get_field(name)).Field()
            for name in only_fields
            if name not in declared and name != "id"
        }
        super().__init_subclass_with_meta__(_meta=_meta, **options)
        cls.model = model
        cls.connection = type(
            f"{cls._meta.name}CountableConnection",
            (CountableConnection,),
            {},
            node=cls,
        )

    @classmethod
    def is_type_of(cls, root, _info):
        return isinstance(root, cls.model)

    @classmethod
    def get_node(cls, _info, pk):
        return cls.model.objects.filter(pk=pk).first()


def to_global_cursor(values) -> str:
    return base64(json.dumps([None if v is None else str(v) for v in values]))


def from_global_cursor(cursor: str) -> List[str]:
    return json.loads(unbase64(cursor))


class _Page:
    """A connection's page, its total counted only if asked."""

    def __init__(self, edges, page_info, count):
        self.edges, self.page_info, self._count = edges, page_info, count

    def count(self):
        return self._count()


NOTHING = Q(pk__in=[])


def _equal(name: str, value: Optional[str]) -> Q:
    return Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})


def _beyond(name: str, value: Optional[str], descending: bool) -> Q:
    """Rows past ``value`` in column ``name``, as PostgreSQL orders: nulls last
    ascending, first descending."""
    if value is None:
        return Q(**{f"{name}__isnull": False}) if descending else NOTHING
    if descending:
        return Q(**{f"{name}__lt": value})
    return Q(**{f"{name}__gt": value}) | Q(**{f"{name}__isnull": True})


def _cursor_filter(fields: List[str], values: List[Optional[str]], descending) -> Q:
    """Rows after the cursor's ``values`` in the order of ``fields``."""
    condition = NOTHING
    for index, name in enumerate(fields):
        same = Q()
        for earlier in range(index):
            same &= _equal(fields[earlier], values[earlier])
        condition |= same & _beyond(name, values[index], descending)
    return condition


def _sort_fields(args: dict, queryset) -> (List[str], bool):
    sort_by = args.get("sort_by")
    if sort_by:
        fields = list(sort_by.field)
        descending = sort_by.direction == OrderDirection.DESC.value
    else:
        ordering = [
            name
            for name in (queryset.query.order_by or queryset.model._meta.ordering)
            if isinstance(name, str)
        ] or ["pk"]
        descending = ordering[0].startswith("-")
        fields = [name.lstrip("-") for name in ordering]
    if "pk" not in fields and "id" not in fields:
        fields.append("pk")
    return fields, descending


def _page_of_queryset(queryset, args: dict, edge_type):
    first, last = args.get("first"), args.get("last")
    after, before = args.get("after"), args.get("before")
    if first and last:
        raise GraphQLError("Argument `last` cannot be combined with `first`.")
    if first and before:
        raise GraphQLError("Argument `first` cannot be combined with `before`.")
    if last and after:
        raise GraphQLError("Argument `last` cannot be combined with `after`.")
    fields, descending = _sort_fields(args, queryset)
    if last:
        descending = not descending
    counted = queryset
    cursor = after or before
    if cursor:
        values = from_global_cursor(cursor)
        if len(values) != len(fields):
            raise GraphQLError("Received cursor is invalid.")
        queryset = queryset.filter(_cursor_filter(fields, values, descending))
    queryset = queryset.order_by(*[("-" if descending else "") + f for f in fields])
    wanted = first or last
    records = list(queryset[: wanted + 1] if wanted is not None else queryset)
    more = wanted is not None and len(records) > wanted
    records = records[:wanted] if wanted is not None else records
    if last:
        records.reverse()
    edges = [
        edge_type(
            node=record,
            cursor=to_global_cursor(
                [getattr(record, f) if f != "pk" else record.pk for f in fields]
            ),
        )
        for record in records
    ]
    page_info = PageInfo(
        has_next_page=bool(more) if first else bool(cursor) and bool(last),
        has_previous_page=bool(more) if last else bool(cursor) and bool(first),
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return _Page(edges, page_info, counted.count)


def _page_of_list(items: list, args: dict, edge_type):
    first, last = args.get("first"), args.get("last")
    offset = 0
    after = args.get("after")
    if after:
        values = from_global_cursor(after)
        offset = int(values[0]) + 1 if values and str(values[0]).isdigit() else 0
    chosen = items[offset:]
    if first is not None:
        chosen = chosen[:first]
    if last is not None:
        chosen = chosen[-last:] if last else []
    start = items.index(chosen[0]) if chosen else offset
    edges = [
        edge_type(node=item, cursor=to_global_cursor([start + i]))
        for i, item in enumerate(chosen)
    ]
    page_info = PageInfo(
        has_next_page=start + len(chosen) < len(items),
        has_previous_page=start > 0,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return _Page(edges, page_info, lambda: len(items))


class PrefetchingConnectionField(graphene.ConnectionField):
    """A paged list of a model type; the resolver returns a queryset (or a list).
    A page of edges needs ``first`` or ``last``, at most ``MAX_LIMIT``."""

    max_limit = MAX_LIMIT

    def __init__(self, type, *args, **kwargs):
        super().__init__(type, *args, **kwargs)
        self.args["first"].description = "Return the first n elements from the list."
        self.args["last"].description = "Return the last n elements from the list."
        self.args[
            "before"
        ].description = (
            "Return the elements in the list that come before the specified cursor."
        )
        self.args[
            "after"
        ].description = (
            "Return the elements in the list that come after the specified cursor."
        )

    @property
    def type(self):
        """The connection of the model type given."""
        type_ = graphene.Field.type.fget(self)
        return getattr(type_, "connection", type_)

    def prepare(self, iterable, info, args):
        return iterable

    def get_resolver(self, parent_resolver):
        resolver = super(graphene.ConnectionField, self).get_resolver(parent_resolver)
        connection = self.type

        def resolve(root, info, **args):
            asks_edges = any(
                getattr(selection, "name", None) is not None
                and selection.name.value == "edges"
                for selection in info.field_asts[0].selection_set.selections
            )
            if asks_edges and not (args.get("first") or args.get("last")):
                raise GraphQLError(
                    "You must provide a `first` or `last` value to properly "
                    f"paginate the `{info.field_name}` connection."
                )
            iterable = resolver(root, info, **args)
            if iterable is None:
                iterable = connection._meta.node.model.objects.all()

            def page(items):
                items = self.prepare(items, info, args)
                if isinstance(items, list):
                    return _page_of_list(items, args, connection.Edge)
                return _page_of_queryset(items, args, connection.Edge)

            if Promise.is_thenable(iterable):
                return Promise.resolve(iterable).then(page)
            return page(iterable)

        return resolve


class FilterInputConnectionField(PrefetchingConnectionField):
    """A paged list with a ``filter`` input (a FilterInputObjectType)."""

    def __init__(self, *args, **kwargs):
        self.filter_input = kwargs.get("filter")
        super().__init__(*args, **kwargs)

    def prepare(self, iterable, info, args):
        data = args.get("filter")
        if not data or self.filter_input is None:
            return iterable
        filter_type = getattr(self.filter_input, "_type", self.filter_input)
        filter_type = getattr(filter_type, "of_type", filter_type)
        filterset = filter_type.filterset_class(
            data=dict(data), queryset=iterable, request=info.context
        )
        if not filterset.is_valid():
            raise GraphQLError(json.dumps(filterset.errors.get_json_data()))
        return filterset.qs


# Mutations and loaders --------------------------------------------------------


class BaseMutation(graphene.Mutation):
    """A mutation as Saleor's: ``permissions`` (every one needed) are checked
    first; a ValidationError the mutation raises becomes its typed errors
    (``handle_errors``)."""

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(
        cls,
        description=None,
        permissions=None,
        error_type_class=None,
        error_type_field=None,
        _meta=None,
        **options,
    ):
        if not _meta:
            _meta = MutationOptions(cls)
        _meta.permissions = tuple(permissions or ())
        _meta.error_type_class = error_type_class
        _meta.error_type_field = error_type_field
        fields = {}
        if error_type_class and error_type_field:
            fields[error_type_field] = graphene.Field(
                graphene.List(
                    graphene.NonNull(error_type_class),
                    description="List of errors that occurred executing the mutation.",
                ),
                default_value=[],
                required=True,
            )
        _meta.fields = fields
        super().__init_subclass_with_meta__(
            description=description, _meta=_meta, **options
        )

    @classmethod
    def check_permissions(cls, context) -> bool:
        user = getattr(context, "user", None)
        return all(has_permission(user, None, p) for p in cls._meta.permissions)

    @classmethod
    def mutate(cls, root, info, **data):
        if not cls.check_permissions(info.context):
            raise PermissionDenied()
        try:
            return cls.perform_mutation(root, info, **data)
        except ValidationError as error:
            return cls.handle_errors(error)

    @classmethod
    def perform_mutation(cls, root, info, **data):
        raise NotImplementedError

    @classmethod
    def handle_errors(cls, error: ValidationError, **extra):
        raise NotImplementedError


class DataLoader(PromiseDataLoader):
    """One loader of a kind per GraphQL request (``context_key``): a page's
    records load in one batch."""

    context_key: Optional[str] = None

    def __new__(cls, context):
        loaders: Dict[str, "DataLoader"] = context.__dict__.setdefault(
            "dataloaders", {}
        )
        if cls.context_key not in loaders:
            loader = super().__new__(cls)
            loader._ready = False
            loaders[cls.context_key] = loader
        return loaders[cls.context_key]

    def __init__(self, context):
        if not self._ready:
            self._ready = True
            self.context = context
            super().__init__()

    def batch_load_fn(self, keys):
        return Promise.resolve(self.batch_load(keys))

    def batch_load(self, keys):
        raise NotImplementedError
