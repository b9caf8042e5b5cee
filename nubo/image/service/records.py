"""What an image is: its fields, which of them a user may write, and how a row
becomes the API's image dict.

Glance validates writes against its image schema and refuses, with 403, the
attributes it computes itself (read-only) and those it keeps for itself
(reserved); custom properties are free-form keys with string values.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from nubo.core.errors import BadRequest, Forbidden, PayloadTooLarge


class Status(StrEnum):
    QUEUED = "queued"
    SAVING = "saving"
    UPLOADING = "uploading"
    IMPORTING = "importing"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    KILLED = "killed"
    DELETED = "deleted"
    PENDING_DELETE = "pending_delete"


# statuses that hold an upload in progress (image_count_uploading)
IN_PROGRESS = frozenset({Status.SAVING, Status.UPLOADING, Status.IMPORTING})
VISIBILITIES = ("public", "private", "shared", "community")
DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
MEMBER_STATUSES = ("pending", "accepted", "rejected")
# the one store, as /v2/info/stores lists it and an image's "stores" names it
STORE_ID = "file"

# Glance's per-image limits (image_property_quota, image_tag_quota, image_member_quota)
MAX_PROPERTIES = 128
MAX_TAGS = 128
MAX_MEMBERS = 128

# computed by the service; a write names them -> 403 "is read-only"
READONLY = frozenset({"created_at", "updated_at", "status", "checksum", "os_hash_algo",
                      "os_hash_value", "size", "virtual_size", "direct_url", "self", "file",
                      "schema", "stores"})
# kept for the service's own use -> 403 "is reserved"
RESERVED = frozenset({"location", "deleted", "deleted_at", "locations"})
RESERVED_PREFIX = "os_glance"
# the writable base attributes, with their checks
BASE = ("id", "name", "visibility", "protected", "os_hidden", "min_disk", "min_ram",
        "disk_format", "container_format", "owner", "tags")
COLUMNS = ("id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
           "os_hash_algo", "os_hash_value", "size", "virtual_size", "min_disk", "min_ram",
           "disk_format", "container_format", "owner", "created_at", "updated_at")


def refuse_protected_names(keys: Any) -> None:
    """403 for a read-only or reserved attribute among ``keys``."""
    for key in keys:
        if key in READONLY:
            raise Forbidden(f"Attribute '{key}' is read-only.")
        if key in RESERVED or key.startswith(RESERVED_PREFIX):
            raise Forbidden(f"Attribute '{key}' is reserved.")


def _invalid(key: str, why: str) -> BadRequest:
    return BadRequest(f"Provided object does not match schema 'image': "
                      f"Invalid value for '{key}': {why}")


def _check_enum(key: str, value: Any, allowed: tuple[str, ...], nullable: bool) -> None:
    if value is None and nullable:
        return
    if value not in allowed:
        raise _invalid(key, f"{value!r} is not one of {list(allowed)}")


def _check_int(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(key, f"{value!r} is not a non-negative integer")
    if value > 2**31 - 1:
        raise _invalid(key, f"{value!r} is too large")


def check_value(key: str, value: Any) -> None:
    """Validate one writable attribute or custom property as Glance's schema does."""
    if key == "id":
        if not isinstance(value, str) or not is_uuid(value):
            raise _invalid(key, f"{value!r} is not a 'uuid'")
    elif key == "name":
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise _invalid(key, "must be a string of at most 255 characters or null")
    elif key == "visibility":
        _check_enum(key, value, VISIBILITIES, False)
    elif key in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise _invalid(key, f"{value!r} is not of type 'boolean'")
    elif key in ("min_disk", "min_ram"):
        _check_int(key, value)
    elif key == "disk_format":
        _check_enum(key, value, DISK_FORMATS, True)
    elif key == "container_format":
        _check_enum(key, value, CONTAINER_FORMATS, True)
    elif key == "owner":
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise _invalid(key, "must be a string of at most 255 characters or null")
    elif key == "tags":
        check_tags(value)
    else:
        check_property(key, value)


def check_tags(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise _invalid("tags", "must be an array of strings")
    for tag in value:
        check_tag(tag)


def check_tag(tag: str) -> None:
    if len(tag) > 255:
        raise _invalid("tags", f"{tag[:40]!r}... is longer than 255 characters")


def check_property(key: str, value: Any) -> None:
    if not key or len(key) > 255:
        raise _invalid(key, "property names are 1 to 255 characters")
    if not isinstance(value, str):
        raise _invalid(key, f"{value!r} is not of type 'string'")
    if len(value) > 65535:
        raise _invalid(key, "the value is longer than 65535 characters")


def check_limits(properties: Mapping[str, Any], tags: list[str]) -> None:
    """413 when an image would carry more custom properties or tags than Glance allows."""
    if len(properties) > MAX_PROPERTIES:
        raise PayloadTooLarge(f"Attempted: {len(properties)}, Maximum: {MAX_PROPERTIES}: "
                              "too many image properties.")
    if len(tags) > MAX_TAGS:
        raise PayloadTooLarge(f"Attempted: {len(tags)}, Maximum: {MAX_TAGS}: too many "
                              "image tags.")


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def timestamp(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def render(row: Mapping[str, Any]) -> dict[str, Any]:
    """The API's image dict from a stored row."""
    image: dict[str, Any] = dict(row.get("properties") or {})
    for column in COLUMNS:
        image[column] = row[column]
    image["created_at"] = timestamp(row["created_at"])
    image["updated_at"] = timestamp(row["updated_at"])
    image["tags"] = list(row.get("tags") or [])
    image_id = row["id"]
    image["self"] = f"/v2/images/{image_id}"
    image["file"] = f"/v2/images/{image_id}/file"
    image["schema"] = "/v2/schemas/image"
    if row["status"] in (Status.ACTIVE, Status.DEACTIVATED) and row["size"] is not None:
        image["stores"] = STORE_ID
    return image


def render_member(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"image_id": row["image_id"], "member_id": row["member_id"],
            "status": row["status"], "created_at": timestamp(row["created_at"]),
            "updated_at": timestamp(row["updated_at"]), "schema": "/v2/schemas/member"}
