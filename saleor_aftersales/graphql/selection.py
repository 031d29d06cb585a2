"""What a query asks for below the field being resolved: the names of the fields
it selects at a path, through fragments. Read paths use it to prefetch only the
relations the response will show."""

from typing import Iterable, List, Set

from graphql.language.ast import Field, FragmentSpread, InlineFragment


def _fields(selection_set, fragments, seen=frozenset()) -> Iterable[Field]:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, Field):
            yield selection
        elif isinstance(selection, InlineFragment):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpread):
            name = selection.name.value
            if name not in seen and name in fragments:
                yield from _fields(
                    fragments[name].selection_set, fragments, seen | {name}
                )


def selected_fields(info, *path: str) -> Set[str]:
    """Field names selected at ``path`` below the current field, e.g.
    ``selected_fields(info, "edges", "node")`` on a connection."""
    fragments = info.fragments or {}
    nodes: List[Field] = list(info.field_asts)
    for step in path:
        nodes = [
            child
            for node in nodes
            for child in _fields(node.selection_set, fragments)
            if child.name.value == step
        ]
    return {
        child.name.value
        for node in nodes
        for child in _fields(node.selection_set, fragments)
    }
