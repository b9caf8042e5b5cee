"""OAuth1 consumers over raw HTTP: openstacksdk has no consumers, and the CLI's
need oauthlib, which is not installed here."""

from __future__ import annotations

from typing import Any

from tests.functional.identity.conftest import Api

PATH = "/OS-OAUTH1/consumers"


def test_consumer_crud_secret_only_on_create(admin_api: Api) -> None:
    r = admin_api.call("POST", PATH, {"consumer": {"description": "d", "color": "blue"}})
    assert r.status_code == 201, r.text
    made = r.json()["consumer"]
    assert made["secret"] and made["description"] == "d" and made["color"] == "blue"
    assert made["links"]["self"].endswith(f"/v3{PATH}/{made['id']}")
    cid = made["id"]
    got = admin_api.call("GET", f"{PATH}/{cid}").json()["consumer"]
    assert "secret" not in got and got["description"] == "d"
    listed = admin_api.call("GET", PATH).json()["consumers"]
    assert cid in {c["id"] for c in listed} and all("secret" not in c for c in listed)
    upd = admin_api.call("PATCH", f"{PATH}/{cid}", {"consumer": {"description": "e"}})
    assert upd.status_code == 200 and upd.json()["consumer"]["description"] == "e"
    assert "secret" not in upd.json()["consumer"]
    for body in ({"consumer": {"secret": "x"}}, {"consumer": {"id": "other"}},
                 {"consumer": {"description": 5}}, {"consumer": []}):
        bad = admin_api.call("PATCH", f"{PATH}/{cid}", body)
        assert bad.status_code == 400, (body, bad.text)
        assert bad.json()["error"]["code"] == 400
    assert admin_api.call("DELETE", f"{PATH}/{cid}").status_code == 204
    assert admin_api.call("GET", f"{PATH}/{cid}").status_code == 404
    assert admin_api.call("DELETE", f"{PATH}/{cid}").status_code == 404


def test_member_refused(admin_api: Api, member_factory: Any) -> None:
    m = member_factory()
    for method, path, body in (("POST", PATH, {"consumer": {}}), ("GET", PATH, None)):
        r = admin_api.call(method, path, body, token=m.token)
        assert r.status_code == 403 and r.json()["error"]["code"] == 403

