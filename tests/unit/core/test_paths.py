import pytest

from nubo.core.api.paths import PathTable


def table(*templates: str) -> PathTable[str]:
    t: PathTable[str] = PathTable()
    for template in templates:
        t.add(template, template)
    return t


def test_literal_and_parameters():
    t = table("/", "/v3", "/v3/", "/v3/users/{user_id}", "/v3/users/{user_id}/groups")
    assert t.match("/") == ("/", {})
    assert t.match("/v3") == ("/v3", {})
    assert t.match("/v3/") == ("/v3/", {})
    assert t.match("/v3/users/abc") == ("/v3/users/{user_id}", {"user_id": "abc"})
    assert t.match("/v3/users/abc/groups") == ("/v3/users/{user_id}/groups",
                                               {"user_id": "abc"})


def test_whole_path_only_and_no_empty_parameters():
    t = table("/v3/users/{user_id}")
    assert t.match("/v3/users") is None
    assert t.match("/v3/users/") is None            # an empty segment is no parameter
    assert t.match("/v3/users/a/") is None          # a trailing slash is a segment
    assert t.match("/v3/users/a/b") is None
    assert t.match("/v3//users/a") is None


def test_literal_wins_then_falls_back_to_parameter():
    t = table("/servers/{server_id}", "/servers/detail", "/servers/{server_id}/action",
              "/servers/detail/x")
    assert t.match("/servers/detail") == ("/servers/detail", {})
    assert t.match("/servers/abc") == ("/servers/{server_id}", {"server_id": "abc"})
    # "detail" is also a server id when only the parameter route goes on from there
    assert t.match("/servers/detail/action") == ("/servers/{server_id}/action",
                                                 {"server_id": "detail"})


def test_several_parameters_keep_their_names():
    t = table("/v3/projects/{project_id}/users/{user_id}/roles/{role_id}",
              "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}")
    assert t.match("/v3/projects/p/users/u/roles/r") == (
        "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}",
        {"project_id": "p", "user_id": "u", "role_id": "r"})
    assert t.match("/v3/projects/p/groups/g/roles/r")[1] == {
        "project_id": "p", "group_id": "g", "role_id": "r"}


def test_bad_templates_are_refused():
    t = table("/a/{x}")
    with pytest.raises(ValueError):
        t.add("/a/{y}", "again")            # the same paths under another name
    with pytest.raises(ValueError):
        t.add("/b/{not-a-name}", "bad")
    with pytest.raises(ValueError):
        t.add("relative", "bad")


def test_every_api_builds_with_one_route_per_method_and_path() -> None:
    """Two routes for the same method and path would leave one of them unreachable."""
    from types import SimpleNamespace

    import nubo.compute.api
    import nubo.identity.api
    import nubo.image.api
    import nubo.network.api
    import nubo.placement.api
    from nubo.core.api.routing import Router, ServiceApp
    from nubo.core.config import Settings

    rt = SimpleNamespace(settings=Settings())
    for module in (nubo.compute.api, nubo.identity.api, nubo.image.api, nubo.network.api,
                   nubo.placement.api):
        module.service_app().build(rt)  # type: ignore[arg-type]
    twice = Router()
    twice.get("/a")(_handler)
    twice.get("/a")(_handler)
    with pytest.raises(ValueError, match="two routes for GET /a"):
        ServiceApp("x", "/x", [twice], fault=None).build(rt)  # type: ignore[arg-type]


async def _handler(req: object) -> None:
    return None
