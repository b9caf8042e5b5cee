"""``/v2/schemas/*``: the JSON schemas of images, members and tasks, as Glance serves them
for clients that build their requests from the schema (glanceclient)."""

from __future__ import annotations

from typing import Any

from nubo.core.api.routing import ApiRequest, Reply, Router
from nubo.core.errors import NotFound
from nubo.image.service.records import (
    CONTAINER_FORMATS,
    DISK_FORMATS,
    MEMBER_STATUSES,
    VISIBILITIES,
)
from nubo.image.service.tasks import STATUSES as TASK_STATUSES

router = Router()

_STRING_OR_NULL = {"type": ["null", "string"]}
_READONLY_STRING = {"type": ["null", "string"], "readOnly": True}
_INTEGER_OR_NULL = {"type": ["null", "integer"], "readOnly": True}


def image_schema() -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-"
               "([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
               "description": "An identifier for the image"},
        "name": {"type": ["null", "string"], "maxLength": 255},
        "status": {"type": "string", "readOnly": True, "enum": [
            "queued", "saving", "active", "killed", "deleted", "uploading", "importing",
            "pending_delete", "deactivated"]},
        "visibility": {"type": "string", "enum": list(VISIBILITIES)},
        "protected": {"type": "boolean"},
        "os_hidden": {"type": "boolean"},
        "checksum": {**_READONLY_STRING, "maxLength": 32},
        "os_hash_algo": {**_READONLY_STRING, "maxLength": 64},
        "os_hash_value": {**_READONLY_STRING, "maxLength": 128},
        "owner": {**_STRING_OR_NULL, "maxLength": 255},
        "size": _INTEGER_OR_NULL,
        "virtual_size": _INTEGER_OR_NULL,
        "container_format": {"type": ["null", "string"],
                             "enum": [None, *CONTAINER_FORMATS]},
        "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS]},
        "created_at": {"type": "string", "readOnly": True},
        "updated_at": {"type": "string", "readOnly": True},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
        "min_ram": {"type": "integer"},
        "min_disk": {"type": "integer"},
        "self": {"type": "string", "readOnly": True},
        "file": {"type": "string", "readOnly": True},
        "schema": {"type": "string", "readOnly": True},
    }
    return {
        "name": "image", "properties": props, "additionalProperties": {"type": "string"},
        "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


def member_schema() -> dict[str, Any]:
    return {"name": "member", "properties": {
        "image_id": {"type": "string"}, "member_id": {"type": "string"},
        "status": {"type": "string", "enum": list(MEMBER_STATUSES)},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"},
        "schema": {"type": "string", "readOnly": True}}}


def _collection(name: str, item: dict[str, Any], key: str) -> dict[str, Any]:
    return {"name": name, "properties": {
        key: {"type": "array", "items": item},
        "schema": {"type": "string"}, "first": {"type": "string"},
        "next": {"type": "string"}},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}]}


@router.get("/v2/schemas/image")
async def show_image_schema(req: ApiRequest) -> Reply:
    return image_schema()


@router.get("/v2/schemas/images")
async def show_images_schema(req: ApiRequest) -> Reply:
    return _collection("images", image_schema(), "images")


def task_schema() -> dict[str, Any]:
    text = {"type": "string"}
    return {"name": "task", "properties": {
        "id": {**text, "description": "An identifier for the task"},
        "type": {**text, "enum": ["import", "api_image_import"]},
        "status": {**text, "enum": list(TASK_STATUSES)},
        "input": {"type": ["null", "object"]}, "result": {"type": ["null", "object"]},
        "owner": text, "message": text, "image_id": text, "request_id": text,
        "user_id": text, "expires_at": {"type": ["null", "string"]},
        "created_at": text, "updated_at": text, "self": text, "schema": text},
        "links": [{"rel": "self", "href": "{self}"},
                  {"rel": "describedby", "href": "{schema}"}]}


@router.get("/v2/schemas/task")
async def show_task_schema(req: ApiRequest) -> Reply:
    return task_schema()


@router.get("/v2/schemas/tasks")
async def show_tasks_schema(req: ApiRequest) -> Reply:
    return _collection("tasks", task_schema(), "tasks")


@router.get("/v2/schemas/member")
async def show_member_schema(req: ApiRequest) -> Reply:
    return member_schema()


@router.get("/v2/schemas/members")
async def show_members_schema(req: ApiRequest) -> Reply:
    return _collection("members", member_schema(), "members")


_TIMES = {"created_at": {"type": "string", "readOnly": True, "format": "date-time"},
          "updated_at": {"type": "string", "readOnly": True, "format": "date-time"}}
_METADEF_ITEMS: dict[str, dict[str, Any]] = {
    "namespace": {"namespace": {"type": "string", "maxLength": 80},
                  "display_name": {"type": "string", "maxLength": 80},
                  "description": {"type": "string", "maxLength": 500},
                  "visibility": {"type": "string", "enum": ["public", "private"]},
                  "protected": {"type": "boolean"}, "owner": {"type": "string"},
                  "resource_type_associations": {"type": "array"},
                  "properties": {"type": "object"}, "objects": {"type": "array"},
                  "tags": {"type": "array"}, **_TIMES},
    "resource_type_association": {"name": {"type": "string", "maxLength": 80},
                                  "prefix": {"type": "string", "maxLength": 80},
                                  "properties_target": {"type": "string", "maxLength": 80},
                                  **_TIMES},
    "object": {"name": {"type": "string", "maxLength": 80},
               "description": {"type": "string"}, "required": {"type": "array"},
               "properties": {"type": "object"}, **_TIMES},
    "property": {"name": {"type": "string", "maxLength": 255},
                 "title": {"type": "string"}, "description": {"type": "string"},
                 "type": {"type": "string", "enum": ["array", "boolean", "integer", "number",
                                                     "object", "string", None]},
                 "enum": {"type": "array"}},
    "tag": {"name": {"type": "string", "maxLength": 255}, **_TIMES},
}
# URL name -> (schema name, item schema, key of the list in a collection)
_METADEF_SCHEMAS = {
    "namespace": "namespace", "resource_type": "resource_type_association",
    "object": "object", "property": "property", "tag": "tag",
}
_METADEF_COLLECTIONS = {
    "namespaces": ("namespaces", "namespace", "namespaces"),
    "resource_types": ("resource_type_associations", "resource_type_association",
                       "resource_type_associations"),
    "objects": ("objects", "object", "objects"),
    "properties": ("properties", "property", "properties"),
    "tags": ("tags", "tag", "tags"),
}


def _metadef_item(name: str) -> dict[str, Any]:
    return {"name": name, "properties": _METADEF_ITEMS[name],
            "additionalProperties": False}


@router.get("/v2/schemas/metadefs/{kind}")
async def show_metadef_schema(req: ApiRequest) -> Reply:
    kind = req.params["kind"]
    if kind in _METADEF_SCHEMAS:
        return _metadef_item(_METADEF_SCHEMAS[kind])
    if kind in _METADEF_COLLECTIONS:
        name, item, key = _METADEF_COLLECTIONS[kind]
        return _collection(name, _metadef_item(item), key)
    raise NotFound(f"No metadata definition schema named {kind}.")
