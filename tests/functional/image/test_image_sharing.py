"""Visibility, members and isolation between projects."""

from __future__ import annotations

from typing import Any

from tests.functional.image.conftest import Caller


def _ids(caller: Caller, query: str = "") -> set[str]:
    r = caller.call("GET", f"/images?limit=1000{query}")
    assert r.status_code == 200, r.text
    return {i["id"] for i in r.json()["images"]}


def test_private_image_is_invisible_to_another_project(alice: Caller, bob: Caller) -> None:
    image_id = alice.create(visibility="private")["id"]
    assert bob.call("GET", f"/images/{image_id}").status_code == 404
    assert image_id not in _ids(bob)
    assert bob.patch(image_id, [{"op": "replace", "path": "/name", "value": "x"}]
                     ).status_code == 404
    assert bob.call("DELETE", f"/images/{image_id}").status_code == 404
    assert bob.call("GET", f"/images/{image_id}/file").status_code == 404
    assert image_id in _ids(alice)


def test_members_share_and_accept(alice: Caller, bob: Caller, make_caller: Any) -> None:
    image_id = alice.create()["id"]
    alice.upload(image_id, b"\1" * 512)
    r = alice.call("POST", f"/images/{image_id}/members", {"member": bob.project_id})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending"
    assert alice.call("POST", f"/images/{image_id}/members",
                      {"member": bob.project_id}).status_code == 409
    # pending: bob can see it by id, but it is not in his default list
    assert bob.show(image_id)["id"] == image_id
    assert image_id not in _ids(bob)
    assert image_id in _ids(bob, "&member_status=pending")
    # the owner cannot accept on the member's behalf; bob cannot add members
    assert alice.call("PUT", f"/images/{image_id}/members/{bob.project_id}",
                      {"status": "accepted"}).status_code == 403
    assert bob.call("POST", f"/images/{image_id}/members",
                    {"member": bob.project_id}).status_code == 403
    assert bob.call("PUT", f"/images/{image_id}/members/{bob.project_id}",
                    {"status": "maybe"}).status_code == 400
    r = bob.call("PUT", f"/images/{image_id}/members/{bob.project_id}",
                 {"status": "accepted"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert image_id in _ids(bob)
    assert bob.call("GET", f"/images/{image_id}/file").content == b"\1" * 512
    # a member cannot modify or delete the image
    assert bob.patch(image_id, [{"op": "replace", "path": "/name", "value": "x"}]
                     ).status_code == 403
    assert bob.call("DELETE", f"/images/{image_id}").status_code == 403
    # the owner sees every member, the member only itself; a stranger nothing
    carol: Caller = make_caller("member")
    alice.call("POST", f"/images/{image_id}/members", {"member": carol.project_id})
    owner_view = alice.call("GET", f"/images/{image_id}/members").json()["members"]
    assert {m["member_id"] for m in owner_view} == {bob.project_id, carol.project_id}
    member_view = bob.call("GET", f"/images/{image_id}/members").json()["members"]
    assert [m["member_id"] for m in member_view] == [bob.project_id]
    assert bob.call("GET", f"/images/{image_id}/members/{carol.project_id}"
                    ).status_code == 404
    stranger: Caller = make_caller("member")
    assert stranger.call("GET", f"/images/{image_id}/members").status_code == 404
    # removing the member hides the image again
    assert alice.call("DELETE", f"/images/{image_id}/members/{bob.project_id}"
                      ).status_code == 204
    assert bob.call("GET", f"/images/{image_id}").status_code == 404


def test_members_only_for_shared_images(alice: Caller, bob: Caller) -> None:
    image_id = alice.create(visibility="private")["id"]
    r = alice.call("POST", f"/images/{image_id}/members", {"member": bob.project_id})
    assert r.status_code == 403


def test_publicize_needs_admin_community_does_not(alice: Caller, bob: Caller,
                                                   admin: Caller) -> None:
    assert alice.call("POST", "/images", {"visibility": "public"}).status_code == 403
    image_id = alice.create()["id"]
    assert alice.patch(image_id, [{"op": "replace", "path": "/visibility",
                                   "value": "public"}]).status_code == 403
    r = alice.patch(image_id, [{"op": "replace", "path": "/visibility", "value": "community"}])
    assert r.status_code == 200
    assert bob.show(image_id)["visibility"] == "community"
    assert image_id not in _ids(bob)
    assert image_id in _ids(bob, "&visibility=community")
    assert image_id in _ids(bob, "&visibility=all")
    public_id = admin.create(visibility="public")["id"]
    assert public_id in _ids(bob)
    assert public_id in _ids(bob, "&visibility=public")
    assert bob.patch(public_id, [{"op": "replace", "path": "/name", "value": "x"}]
                     ).status_code == 403


def test_owner_cannot_be_given_away_by_a_member(alice: Caller, bob: Caller) -> None:
    r = alice.call("POST", "/images", {"owner": bob.project_id})
    assert r.status_code == 403
    image_id = alice.create()["id"]
    assert alice.patch(image_id, [{"op": "replace", "path": "/owner",
                                   "value": bob.project_id}]).status_code == 403


def test_member_cannot_act_on_the_owners_image(alice: Caller, bob: Caller) -> None:
    image_id = alice.create()["id"]
    alice.call("POST", f"/images/{image_id}/members", {"member": bob.project_id})
    bob.call("PUT", f"/images/{image_id}/members/{bob.project_id}", {"status": "accepted"})
    octets = {"Content-Type": "application/octet-stream"}
    refused = [
        bob.call("PUT", f"/images/{image_id}/tags/mine"),
        bob.call("DELETE", f"/images/{image_id}/tags/mine"),
        bob.upload(image_id, b"\0" * 16),
        bob.call("PUT", f"/images/{image_id}/stage", data=b"\0" * 16, headers=octets),
        bob.call("POST", f"/images/{image_id}/import", {"method": {"name": "glance-direct"}}),
        bob.call("POST", f"/images/{image_id}/actions/deactivate"),
        bob.call("POST", f"/images/{image_id}/actions/reactivate"),
        bob.call("DELETE", f"/images/{image_id}/members/{bob.project_id}"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert alice.show(image_id)["status"] == "queued"
    assert alice.show(image_id)["tags"] == []


def test_member_limit_is_413(alice: Caller) -> None:
    image_id = alice.create()["id"]
    for i in range(128):
        r = alice.call("POST", f"/images/{image_id}/members", {"member": f"project-{i}"})
        assert r.status_code == 200, r.text
    r = alice.call("POST", f"/images/{image_id}/members", {"member": "one-too-many"})
    assert r.status_code == 413
    assert len(alice.call("GET", f"/images/{image_id}/members").json()["members"]) == 128
