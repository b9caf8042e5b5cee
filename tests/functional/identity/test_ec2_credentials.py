"""``/v3/users/{id}/credentials/OS-EC2``: through the real ``openstack ec2 credentials``
commands and raw HTTP for what the CLI hides."""

from __future__ import annotations

from typing import Any

from tests.cloud import Cloud
from tests.functional.identity.conftest import Api, unique


def test_cli_create_list_show_delete(cloud: Cloud) -> None:
    made = cloud.cli_json("ec2", "credentials", "create")
    access = made["access"]
    assert made["secret"] and made["project_id"]
    listed = cloud.cli_json("ec2", "credentials", "list")
    assert access in {c["Access"] for c in listed}
    shown = cloud.cli_json("ec2", "credentials", "show", access)
    assert shown["secret"] == made["secret"]
    cloud.cli("ec2", "credentials", "delete", access)
    assert access not in {c["Access"] for c in cloud.cli_json("ec2", "credentials", "list")}


def test_member_manages_own_and_not_others(admin_api: Api, member_factory: Any) -> None:
    m, other = member_factory(), member_factory()
    base = f"/users/{m.user_id}/credentials/OS-EC2"
    r = admin_api.call("POST", base, {"tenant_id": m.project_id}, token=m.token)
    assert r.status_code == 201, r.text
    cred = r.json()["credential"]
    assert cred["user_id"] == m.user_id and cred["tenant_id"] == m.project_id
    assert cred["links"]["self"].endswith(f"{base}/{cred['access']}")
    # the blob is an ordinary ec2 credential, id = sha256(access)
    got = admin_api.call("GET", f"{base}/{cred['access']}", token=m.token)
    assert got.status_code == 200 and got.json()["credential"]["secret"] == cred["secret"]
    # someone else can neither read nor delete it, nor create one for m
    assert admin_api.call("GET", f"{base}/{cred['access']}",
                          token=other.token).status_code == 403
    assert admin_api.call("DELETE", f"{base}/{cred['access']}",
                          token=other.token).status_code == 403
    assert admin_api.call("POST", base, {"tenant_id": m.project_id},
                          token=other.token).status_code == 403
    assert admin_api.call("GET", base, token=other.token).status_code == 403
    # naming another user in the path does not reach m's credential
    theirs = f"/users/{other.user_id}/credentials/OS-EC2/{cred['access']}"
    assert admin_api.call("GET", theirs, token=other.token).status_code == 403
    assert admin_api.call("DELETE", f"{base}/{cred['access']}", token=m.token).status_code == 204
    gone = admin_api.call("GET", f"{base}/{cred['access']}", token=m.token)
    assert gone.status_code == 404


def test_unknown_project_or_user_is_404(admin_api: Api, member_factory: Any) -> None:
    m = member_factory()
    base = f"/users/{m.user_id}/credentials/OS-EC2"
    assert admin_api.call("POST", base, {"tenant_id": unique("nope")}).status_code == 404
    assert admin_api.call("POST", base, {}).status_code == 404
    assert admin_api.call("GET", f"/users/{unique('nope')}/credentials/OS-EC2"
                          ).status_code == 404
    assert admin_api.call("GET", f"{base}/{unique('nokey')}").status_code == 404
