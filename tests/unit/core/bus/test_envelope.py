"""The envelope every bus message travels in, and its JSON form."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from nubo.core.bus import Envelope


def _doc(**changes: object) -> bytes:
    doc = orjson.loads(Envelope.new("compute.instance.build", {"id": "vm-1"}).to_json())
    doc.update(changes)
    return orjson.dumps(doc)


def test_new_envelope_has_an_id_a_utc_timestamp_and_copies_its_inputs() -> None:
    payload = {"id": "vm-1"}
    context = {"user_id": "u1", "roles": ["member"]}

    env = Envelope.new("compute.instance.build", payload, request_id="req-1", context=context)
    payload["id"] = "changed"
    context["user_id"] = "changed"

    assert uuid.UUID(env.message_id).version == 4
    assert env.topic == "compute.instance.build"
    assert env.payload == {"id": "vm-1"}
    assert env.context == {"user_id": "u1", "roles": ["member"]}
    assert env.request_id == "req-1"
    assert env.timestamp.tzinfo is not None and env.timestamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - env.timestamp) < timedelta(seconds=5)


def test_json_round_trip_keeps_every_field() -> None:
    env = Envelope.new(
        "identity.revocation.created",
        {"audit_id": "abc", "nested": {"n": [1, 2.5, None, True]}},
        request_id="req-42",
        context={"project_id": "p1"},
    )

    assert Envelope.from_json(env.to_json()) == env
    assert Envelope.from_json(env.to_json().decode()) == env


def test_json_form_names_the_fields_and_uses_iso_8601_utc() -> None:
    env = Envelope.new("compute.instance.build", {"id": "vm-1"})

    doc = orjson.loads(env.to_json())

    assert set(doc) == {"message_id", "topic", "payload", "request_id", "context", "timestamp"}
    assert doc["request_id"] is None and doc["context"] == {}
    assert datetime.fromisoformat(doc["timestamp"]).utcoffset() == timedelta(0)


def test_timestamps_in_other_zones_are_read_as_utc() -> None:
    east = datetime(2030, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    env = Envelope.from_json(_doc(timestamp=east.isoformat()))

    assert env.timestamp == east and env.timestamp.tzinfo == UTC
    assert Envelope.from_json(_doc(timestamp="2030-01-01T10:00:00Z")).timestamp == east


def test_payload_that_is_not_json_cannot_be_serialized() -> None:
    env = Envelope.new("compute.instance.build", {"handle": object()})

    with pytest.raises(TypeError):
        env.to_json()


def test_new_rejects_a_bad_topic() -> None:
    with pytest.raises(ValueError, match="invalid topic"):
        Envelope.new("compute.*.build", {})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (_doc(message_id=7), "message_id"),
        (_doc(topic="compute..build"), "invalid topic"),
        (_doc(payload=[1]), "payload"),
        (_doc(request_id=5), "request_id"),
        (_doc(context=None), "context"),
        (_doc(timestamp="yesterday"), "not ISO 8601"),
        (_doc(timestamp="2030-01-01T10:00:00"), "no time zone"),
    ],
)
def test_malformed_envelopes_are_rejected(body: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Envelope.from_json(body)


def test_missing_fields_are_rejected() -> None:
    doc = orjson.loads(_doc())
    del doc["payload"]

    with pytest.raises(ValueError, match="payload"):
        Envelope.from_json(orjson.dumps(doc))
