"""Shared mutation plumbing: typed errors and ID resolution, Saleor-style."""

from typing import Dict, List, Type

import graphene
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model

from ... import models
from ..host import api
from ...error_codes import AftersalesErrorCode as Code
from ...error_codes import aftersales_error
from ...selectors import requests_for_api
from ...workflow import Actor, Change
from ..types import AftersalesError, AftersalesRequest, request_relations


def not_found(field: str, global_id: str) -> ValidationError:
    return aftersales_error(
        field, f"Couldn't resolve to a node: {global_id}", Code.NOT_FOUND
    )


def pk_from_global_id(global_id: str, type_name: str, field: str) -> str:
    try:
        _type, pk = graphene.Node.from_global_id(global_id)
    except Exception:
        _type, pk = None, None
    if _type != type_name or not pk:
        raise aftersales_error(
            field, f"Must receive a {type_name} id.", Code.GRAPHQL_ERROR
        )
    return pk


def _query(field: str, global_id: str, run):
    """Run a look-up; a malformed primary key is the caller's error, not a 500."""
    try:
        return run()
    except (ValueError, TypeError, ValidationError):
        raise aftersales_error(field, f"Invalid id: {global_id}", Code.GRAPHQL_ERROR)


def get_instance(
    model: Type[Model], global_id: str, type_name: str, field: str, qs=None
):
    pk = pk_from_global_id(global_id, type_name, field)
    qs = qs if qs is not None else model.objects.all()
    instance = _query(field, global_id, lambda: qs.filter(pk=pk).first())
    if instance is None:
        raise not_found(field, global_id)
    return instance


def get_instances(
    model: Type[Model], global_ids: List[str], type_name: str, field: str, qs=None
) -> Dict[str, Model]:
    """Resolve many IDs in one query; every one must exist."""
    pks = {gid: pk_from_global_id(gid, type_name, field) for gid in global_ids}
    qs = qs if qs is not None else model.objects.all()
    found = _query(
        field,
        ", ".join(global_ids),
        lambda: {str(obj.pk): obj for obj in qs.filter(pk__in=set(pks.values()))},
    )
    result = {}
    for gid, pk in pks.items():
        if str(pk) not in found:
            raise not_found(field, gid)
        result[gid] = found[str(pk)]
    return result


def get_host_records(type_name: str, global_ids: List[str], field: str) -> Dict:
    """The host's records (orders, order lines, variants, warehouses, accounts,
    product types) behind IDs of ``type_name``; every one must exist."""
    for global_id in global_ids:
        pk_from_global_id(global_id, type_name, field)
    found = _query(
        field,
        ", ".join(global_ids),
        lambda: api.nodes_by_id(type_name, global_ids) if global_ids else {},
    )
    for global_id in global_ids:
        if global_id not in found:
            raise not_found(field, global_id)
    return found


def get_host_record(type_name: str, global_id: str, field: str):
    return get_host_records(type_name, [global_id], field)[global_id]


def get_request(global_id: str, field: str = "id") -> "models.AftersalesRequest":
    return get_instance(
        models.AftersalesRequest,
        global_id,
        "AftersalesRequest",
        field,
        qs=models.AftersalesRequest.objects.select_related("order"),
    )


def reload_for_api(
    request: "models.AftersalesRequest", info
) -> "models.AftersalesRequest":
    """The claim as the mutation's payload shows it (``aftersalesRequest``),
    with only the relations the caller selected."""
    return requests_for_api(request_relations(info, "aftersalesRequest")).get(
        pk=request.pk
    )


KNOWN_CODES = {code.value for code in Code}


def errors_of(error: ValidationError):
    """(field, message, code) triples, the field named as the API names it (the
    services raise snake_case names); codes outside our enum read as INVALID."""
    if hasattr(error, "error_dict"):
        items = error.error_dict.items()
    else:
        items = [(None, error.error_list)]
    for field, field_errors in items:
        name = None if field in (None, NON_FIELD_ERRORS) else snake_to_camel(field)
        for err in field_errors:
            code = err.code if err.code in KNOWN_CODES else Code.INVALID.value
            yield name, err.messages[0], code


MAX_TEXT_LENGTH = 5000
MAX_KEY_LENGTH = 255
MAX_METER_READING = 1_000_000_000


def storable(value: str) -> bool:
    """Whether PostgreSQL can store the text: no lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_text(data, name: str, field: str = None, max_length=MAX_TEXT_LENGTH) -> str:
    """A free-text input, trimmed; NUL bytes and novels are refused."""
    value = (data.get(name) or "").strip()
    if "\x00" in value or len(value) > max_length or not storable(value):
        raise aftersales_error(
            field or name,
            f"Text must be at most {max_length} characters, without NUL bytes.",
            Code.INVALID,
        )
    return value


def clean_language(data, name: str = "language") -> str:
    """A language the shop writes to customers in: en or zh-hans (zh, zh-CN and
    zh-Hans are read as zh-hans); absent: ""."""
    value = (data.get(name) or "").strip().lower().replace("_", "-")
    if not value:
        return ""
    if value in ("zh", "zh-cn", "zh-hans", "zh-hans-cn"):
        return "zh-hans"
    if value == "en" or value.startswith("en-"):
        return "en"
    raise aftersales_error(
        name, "Choose a language the shop writes in: en or zh-hans.", Code.INVALID
    )


def clean_meter_reading(value, field: str = "lines"):
    """A km or hours reading: absent, or a whole number the database can hold."""
    if value is not None and not 0 <= value <= MAX_METER_READING:
        raise aftersales_error(
            field, f"Meter readings are 0 to {MAX_METER_READING}.", Code.INVALID
        )
    return value


def snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class AftersalesMutation(api.BaseMutation):
    """Saleor's BaseMutation with ``errors`` typed as AftersalesError (Saleor 3
    style), mirrored as ``aftersalesErrors`` for Saleor 2.10-style clients."""

    errors = graphene.List(
        graphene.NonNull(AftersalesError),
        required=True,
        description="List of errors that occurred executing the mutation.",
    )

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(cls, **options):
        options.setdefault("error_type_class", AftersalesError)
        options.setdefault("error_type_field", "aftersales_errors")
        super().__init_subclass_with_meta__(**options)

    @classmethod
    def handle_errors(cls, error: ValidationError, **extra):
        typed = [
            AftersalesError(field=field, message=message, code=code)
            for field, message, code in errors_of(error)
        ]
        return cls(errors=typed, aftersales_errors=typed, **extra)

    @classmethod
    def success(cls, **fields):
        return cls(errors=[], aftersales_errors=[], **fields)


class RequestMutation(AftersalesMutation):
    """One step on one claim: resolve it, authorize the actor, call the workflow."""

    aftersales_request = graphene.Field(AftersalesRequest, description="The claim.")

    class Meta:
        abstract = True

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        request = get_request(data["id"])
        actor = cls.authorize(info, request, data)
        change = cls.transition(request, actor, data)
        return cls.success(aftersales_request=reload_for_api(change.request, info))

    @classmethod
    def authorize(cls, info, request, data) -> Actor:
        raise NotImplementedError

    @classmethod
    def transition(cls, request, actor: Actor, data) -> Change:
        raise NotImplementedError
