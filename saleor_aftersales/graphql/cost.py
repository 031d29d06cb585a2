"""What a GraphQL document would cost to run, measured on its parsed AST.

Saleor 2.10 runs whatever document it is sent: a few hundred aliases of a nested
list, or a thousand of a public throttled check, keep a worker busy for minutes.
Saleor 3 refuses such documents before running them (a cost of 50,000 at most,
reported in ``extensions.cost``); the plugin's view (graphql/view.py) does the same
for every document posted to /graphql/, Saleor's own fields included.

The measure, by walking the document with the schema's types (fragments and inline
fragments resolved, ``@skip``/``@include`` ignored, so it never undercounts):

* every field costs 1, plus what is selected under it times how many objects it
  may return: a connection the page asked for (``first``/``last``, literal or from
  the request's variables; the connection's maximum when absent, and never more),
  any other list ``LIST_SIZE``, a single object 1. Nested pages multiply.
* introspection (``__schema``, ``__type`` and what is under them) is cheap: 1 a
  field, no multiplier and no depth, but ``fields``/``inputFields``/``interfaces``/
  ``possibleTypes`` may nest at most twice (graphql-js' rule against the known
  blow-up), and ``__schema`` and ``__type`` themselves cost what
  ``INTROSPECTION_ROOT_COST`` says.
* depth (nested fields, introspection not counted), aliases and fields are counted
  after fragments are expanded, and each has its own ceiling; so has the length of
  the query text, checked before it is parsed.

Fragments are measured once each, so a document that spreads fragments into one
another exponentially is measured in linear time (its cost then is astronomical,
and refused).
"""

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

from graphql.language import ast
from graphql.type.definition import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
)

CAP = 10 ** 12  # Numbers stop growing here: a refusal is all that is left to say.

MAXIMUM_COST = 50_000
MAXIMUM_DEPTH = 15
# Copies of one root field in a request (aliases, batched operations).
MAXIMUM_REPEATS = 10
# Brackets of any kind (selections, arguments, input objects, lists) in the text,
# checked before parsing.
MAXIMUM_NESTING = 64
MAXIMUM_ALIASES = 100
MAXIMUM_FIELDS = 2_000
MAXIMUM_BATCH = 20
# Parsing is the one cost paid before measuring: graphql-core 2 parses ~0.5 MB/s.
MAXIMUM_LENGTH = 100_000
LIST_SIZE = 2
# Introspection is cheap a field but not as a whole: Saleor's schema has ~750
# types, and the standard introspection query takes over a second to answer
# (1 MB), one ``__type`` with nested lists a fifth of one.
INTROSPECTION_ROOT_COST = {"__schema": 20_000, "__type": 5_000}
INTROSPECTION_LISTS = frozenset(
    {"fields", "inputFields", "interfaces", "possibleTypes"}
)
MAXIMUM_INTROSPECTION_LISTS = 2


@dataclass(frozen=True)
class Limits:
    maximum_cost: int = MAXIMUM_COST
    maximum_depth: int = MAXIMUM_DEPTH
    maximum_aliases: int = MAXIMUM_ALIASES
    maximum_fields: int = MAXIMUM_FIELDS
    maximum_batch: int = MAXIMUM_BATCH
    maximum_length: int = MAXIMUM_LENGTH
    page_size: int = 100  # Saleor's RELAY_CONNECTION_MAX_LIMIT: its default and cap
    list_size: int = LIST_SIZE


@dataclass
class Summary:
    """A selection's measure; the same shape for a field, a fragment, an operation."""

    cost: int = 0
    depth: int = 0
    fields: int = 0
    aliases: int = 0
    introspection_lists: int = 0

    def add(self, other: "Summary") -> None:
        self.cost = min(CAP, self.cost + other.cost)
        self.fields = min(CAP, self.fields + other.fields)
        self.aliases = min(CAP, self.aliases + other.aliases)
        self.depth = max(self.depth, other.depth)
        self.introspection_lists = max(
            self.introspection_lists, other.introspection_lists
        )


def nesting(text: str) -> int:
    """How deep brackets nest in a document's text, outside strings and comments:
    read before parsing, since graphql-core's parser recurses once per level and
    a deep enough document exhausts Python's stack."""
    deepest = depth = 0
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == "#":
            end = text.find("\n", index)
            index = length if end < 0 else end
        elif char == '"':
            if text.startswith('"""', index):
                end = text.find('"""', index + 3)
                index = length if end < 0 else end + 3
                continue
            index += 1
            while index < length and text[index] not in '"\n':
                index += 2 if text[index] == "\\" else 1
        elif char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth -= 1
        index += 1
    return deepest


@dataclass
class Analysis:
    cost: int = 0
    depth: int = 0
    fields: int = 0
    aliases: int = 0
    introspection_lists: int = 0
    length: int = 0  # of the query text
    # Root field name -> how many times the operation runs it (distinct aliases).
    root_fields: Dict[str, int] = field(default_factory=dict)

    def violation(self, limits: Limits) -> Optional[str]:
        """The first ceiling this document is over, or None."""
        for name, requested, maximum in self.figures(limits):
            if requested > maximum:
                return name
        return None

    def figures(self, limits: Limits):
        """(limit, this document's figure, the maximum) for each ceiling."""
        return [
            ("length", self.length, limits.maximum_length),
            ("cost", self.cost, limits.maximum_cost),
            ("depth", self.depth, limits.maximum_depth),
            ("aliases", self.aliases, limits.maximum_aliases),
            ("fields", self.fields, limits.maximum_fields),
            (
                "introspection",
                self.introspection_lists,
                MAXIMUM_INTROSPECTION_LISTS,
            ),
        ]


def _object_fields(type_) -> dict:
    if isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
        return type_.fields
    return {}


def _is_list(type_) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _is_connection(named) -> bool:
    fields = _object_fields(named)
    return "edges" in fields and "pageInfo" in fields


def _is_introspection(type_) -> bool:
    return type_ is not None and getattr(type_, "name", "").startswith("__")


class _Walker:
    def __init__(self, schema, document: ast.Document, variables, limits: Limits):
        self.schema = schema
        self.limits = limits
        self.variables = variables if isinstance(variables, dict) else {}
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, ast.FragmentDefinition)
        }
        self.measured: Dict[str, Summary] = {}
        self.visiting: set = set()

    def _type(self, name: str):
        try:
            return self.schema.get_type(name)
        except Exception:  # graphene's schema raises on a name it lacks
            return None

    def page_size(self, node: ast.Field) -> int:
        sizes: List[int] = []
        for argument in node.arguments or []:
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, ast.Variable):
                value = self.variables.get(value.name.value)
            elif isinstance(value, ast.IntValue):
                value = int(value.value)
            else:
                value = None
            if isinstance(value, int) and not isinstance(value, bool):
                sizes.append(value)
        size = max(sizes) if sizes else self.limits.page_size
        return max(1, min(size, self.limits.page_size))

    def selection_set(self, selection_set, parent, in_introspection=False) -> Summary:
        total = Summary()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, ast.Field):
                total.add(self.field(selection, parent, in_introspection))
            elif isinstance(selection, ast.InlineFragment):
                condition = selection.type_condition
                type_ = self._type(condition.name.value) if condition else parent
                total.add(
                    self.selection_set(
                        selection.selection_set, type_, in_introspection
                    )
                )
            elif isinstance(selection, ast.FragmentSpread):
                total.add(self.fragment(selection.name.value, in_introspection))
        return total

    def fragment(self, name: str, in_introspection: bool) -> Summary:
        key = f"{name}:{in_introspection}"
        if key in self.measured:
            return self.measured[key]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return Summary()  # Validation refuses the unknown or cyclic fragment.
        self.visiting.add(name)
        try:
            summary = self.selection_set(
                definition.selection_set,
                self._type(definition.type_condition.name.value),
                in_introspection,
            )
        finally:
            self.visiting.discard(name)
        self.measured[key] = summary
        return summary

    def field(self, node: ast.Field, parent, in_introspection: bool) -> Summary:
        name = node.name.value
        definition = None
        if name == "__schema":
            child_type = self._type("__Schema")
        elif name == "__type":
            child_type = self._type("__Type")
        else:
            definition = _object_fields(parent).get(name)
            child_type = get_named_type(definition.type) if definition else None
        introspection = (
            in_introspection
            or name in ("__schema", "__type")
            or _is_introspection(parent)
        )
        children = self.selection_set(node.selection_set, child_type, introspection)
        summary = Summary(
            fields=min(CAP, 1 + children.fields),
            aliases=min(CAP, (1 if node.alias is not None else 0) + children.aliases),
        )
        if introspection:
            summary.cost = min(CAP, 1 + children.cost)
            if not in_introspection:
                root_cost = INTROSPECTION_ROOT_COST.get(name, 0)
                summary.cost = min(CAP, summary.cost + root_cost)
            summary.depth = children.depth
            summary.introspection_lists = children.introspection_lists + (
                1 if name in INTROSPECTION_LISTS and _is_introspection(parent) else 0
            )
            return summary
        multiplier = 1
        if definition is not None and node.selection_set is not None:
            if _is_connection(child_type):
                multiplier = self.page_size(node)
            elif _is_list(definition.type):
                multiplier = self.limits.list_size
        summary.cost = min(CAP, 1 + multiplier * children.cost)
        summary.depth = 1 + children.depth
        summary.introspection_lists = children.introspection_lists
        return summary


def _root_fields(walker: _Walker, selection_set, seen=None) -> Dict[str, str]:
    """Response key -> field name of an operation's root, fragments expanded."""
    keys: Dict[str, str] = {}
    seen = set() if seen is None else seen
    for selection in selection_set.selections:
        if isinstance(selection, ast.Field):
            key = (selection.alias or selection.name).value
            keys.setdefault(key, selection.name.value)
        elif isinstance(selection, ast.InlineFragment):
            for k, v in _root_fields(walker, selection.selection_set, seen).items():
                keys.setdefault(k, v)
        elif isinstance(selection, ast.FragmentSpread):
            name = selection.name.value
            definition = walker.fragments.get(name)
            if definition is None or name in seen:
                continue
            seen.add(name)
            for k, v in _root_fields(walker, definition.selection_set, seen).items():
                keys.setdefault(k, v)
    return keys


def operations_to_run(
    document: ast.Document, operation_name: Optional[str]
) -> Iterable[ast.OperationDefinition]:
    """The operation the request runs; all of them if that isn't clear (then the
    execution refuses it, and the measure errs on the high side)."""
    operations = [
        definition
        for definition in document.definitions
        if isinstance(definition, ast.OperationDefinition)
    ]
    if operation_name:
        named = [op for op in operations if op.name and op.name.value == operation_name]
        if named:
            return named[:1]
    elif len(operations) == 1:
        return operations
    return operations


def analyze(
    schema,
    document: ast.Document,
    variables=None,
    operation_name: Optional[str] = None,
    limits: Limits = Limits(),
) -> Analysis:
    walker = _Walker(schema, document, variables, limits)
    analysis = Analysis()
    for operation in operations_to_run(document, operation_name):
        root = {
            "query": schema.get_query_type(),
            "mutation": schema.get_mutation_type(),
            "subscription": schema.get_subscription_type(),
        }.get(operation.operation)
        summary = walker.selection_set(operation.selection_set, root)
        analysis.cost = min(CAP, analysis.cost + summary.cost)
        analysis.fields = min(CAP, analysis.fields + summary.fields)
        analysis.aliases = min(CAP, analysis.aliases + summary.aliases)
        analysis.depth = max(analysis.depth, summary.depth)
        analysis.introspection_lists = max(
            analysis.introspection_lists, summary.introspection_lists
        )
        for name in _root_fields(walker, operation.selection_set).values():
            analysis.root_fields[name] = analysis.root_fields.get(name, 0) + 1
    return analysis
