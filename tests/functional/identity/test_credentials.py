"""/v3/credentials through openstacksdk, the CLI and raw HTTP."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, unique


def test_sdk_crud_and_filters(admin: Any) -> None:
    me = admin.current_user_id
    cred = admin.identity.create_credential(type="cert", blob="secret-one", user_id=me)
    try:
        assert cred.blob == "secret-one" and cred.user_id == me and cred.type == "cert"
        got = admin.identity.get_credential(cred.id)
        assert got.blob == "secret-one"
        upd = admin.identity.update_credential(cred.id, blob="secret-two")
        assert upd.blob == "secret-two"
        assert cred.id in {c.id for c in admin.identity.credentials(user_id=me)}
        assert cred.id in {c.id for c in admin.identity.credentials(type="cert")}
        assert cred.id not in {c.id for c in admin.identity.credentials(type="ec2")}
    finally:
        admin.identity.delete_credential(cred.id)
    assert admin.identity.find_credential(cred.id) is None


def test_cli_ec2_id_is_sha256_of_access(cloud: Cloud, admin: Any) -> None:
    access = unique("access")
    blob = json.dumps({"access": access, "secret": "s3cr3t"})
    made = cloud.cli_json("credential", "create", "--type", "ec2", "--project", "admin",
                          "admin", blob)
    try:
        assert made["id"] == hashlib.sha256(access.encode()).hexdigest()
        assert json.loads(made["blob"])["access"] == access
        listed = cloud.cli_json("credential", "list", "--type", "ec2")
        assert made["id"] in {c["ID"] for c in listed}
    finally:
        cloud.cli("credential", "delete", made["id"])


def test_blob_encrypted_at_rest(cloud: Cloud, admin: Any) -> None:
    marker = unique("plaintext-marker")
    cred = admin.identity.create_credential(type="cert", blob=marker,
                                            user_id=admin.current_user_id)
    try:
        db = Path(cloud.state_dir) / "nubo.db"
        if db.exists():
            assert marker.encode() not in db.read_bytes()
        assert any((Path(cloud.state_dir) / "credential-keys").iterdir())
    finally:
        admin.identity.delete_credential(cred.id)


def test_bad_input(admin_api: Api) -> None:
    me = admin_api.call("GET", "/auth/tokens", headers={
        "X-Subject-Token": admin_api.token}).json()["token"]["user"]["id"]
    cases: list[dict[str, Any]] = [
        {"type": "cert", "user_id": me},  # no blob
        {"blob": "x", "user_id": me},  # no type
        {"blob": 5, "type": "cert", "user_id": me},
        {"blob": "{}", "type": "ec2", "user_id": me},  # ec2 without project_id
        {"blob": "not json", "type": "ec2", "user_id": me, "project_id": "p"},
        {"blob": '{"secret": "s"}', "type": "ec2", "user_id": me, "project_id": "p"},
    ]
    for body in cases:
        r = admin_api.call("POST", "/credentials", {"credential": body})
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == 400
    r = admin_api.call("GET", "/credentials/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == 404
    blob = json.dumps({"access": unique("a"), "secret": "s"})
    body = {"credential": {"blob": blob, "type": "ec2", "user_id": me, "project_id": "p"}}
    first = admin_api.call("POST", "/credentials", body)
    assert first.status_code == 201
    assert admin_api.call("POST", "/credentials", body).status_code == 409
    cid = first.json()["credential"]["id"]
    assert admin_api.call("PATCH", f"/credentials/{cid}", {"credential": {}}).status_code == 400
    assert admin_api.call("DELETE", f"/credentials/{cid}").status_code == 204


def test_member_owns_only_its_credentials(admin_api: Api, member_factory: Any,
                                          admin: Any) -> None:
    alice, bob = member_factory(), member_factory()
    mine = admin_api.call("POST", "/credentials", {"credential": {
        "blob": "a", "type": "cert", "user_id": alice.user_id}}, token=alice.token)
    assert mine.status_code == 201, mine.text
    cid = mine.json()["credential"]["id"]
    # Not for someone else, not someone else's.
    r = admin_api.call("POST", "/credentials", {"credential": {
        "blob": "a", "type": "cert", "user_id": alice.user_id}}, token=bob.token)
    assert r.status_code == 403 and r.json()["error"]["code"] == 403
    assert admin_api.call("GET", f"/credentials/{cid}", token=bob.token).status_code == 403
    assert admin_api.call("PATCH", f"/credentials/{cid}", {"credential": {
        "user_id": bob.user_id}}, token=bob.token).status_code == 403
    assert admin_api.call("PATCH", f"/credentials/{cid}", {"credential": {
        "user_id": bob.user_id}}, token=alice.token).status_code == 403
    assert admin_api.call("DELETE", f"/credentials/{cid}", token=bob.token).status_code == 403
    seen_by_bob = admin_api.call("GET", "/credentials", token=bob.token).json()["credentials"]
    assert cid not in {c["id"] for c in seen_by_bob}
    seen = admin_api.call("GET", "/credentials", token=alice.token).json()["credentials"]
    assert [c["id"] for c in seen] == [cid]
    assert admin_api.call("DELETE", f"/credentials/{cid}", token=alice.token).status_code == 204
