"""The image default policy: it loads, and decides as Glance's secure-RBAC defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nubo.core.auth.context import RequestContext
from nubo.core.auth.policy import PolicyEngine
from nubo.image.policies import DEFAULTS

ENGINE = PolicyEngine(DEFAULTS, None)
ADMIN = RequestContext(user_id="a", project_id="X", roles=("admin", "manager", "member",
                                                             "reader"))
MEMBER = RequestContext(user_id="m", project_id="P", roles=("member", "reader"))
READER = RequestContext(user_id="r", project_id="P", roles=("reader",))
OTHER = RequestContext(user_id="o", project_id="Q", roles=("member", "reader"))


def _image(visibility: str = "shared", member_id: str = "") -> dict[str, str]:
    return {"project_id": "P", "owner": "P", "visibility": visibility,
            "member_id": member_id}


@pytest.mark.parametrize(("rule", "who", "target", "allowed"), [
    ("add_image", MEMBER, _image(), True),
    ("add_image", READER, _image(), False),
    ("add_image", OTHER, _image(), False),
    ("modify_image", MEMBER, _image(), True),
    ("modify_image", OTHER, _image("public"), False),
    ("modify_image", ADMIN, _image(), True),
    ("get_image", READER, _image("private"), True),
    ("get_image", OTHER, _image("public"), True),
    ("get_image", OTHER, _image("private"), False),
    ("download_image", OTHER, _image("shared", "Q"), True),
    ("publicize_image", MEMBER, _image(), False),
    ("publicize_image", ADMIN, _image(), True),
    ("communitize_image", MEMBER, _image(), True),
    ("communitize_image", OTHER, _image(), False),
    ("add_member", MEMBER, _image(), True),
    ("add_member", OTHER, _image("shared", "Q"), False),
    ("modify_member", OTHER, {**_image(), "member_id": "Q"}, True),
    ("modify_member", OTHER, {**_image(), "member_id": "R"}, False),
    ("get_members", OTHER, _image("shared", "Q"), True),
    ("get_tasks", MEMBER, {"project_id": "P"}, False),
    ("add_metadef_namespace", MEMBER, {"project_id": "P"}, False),
    ("get_metadef_namespace", OTHER, {"project_id": "P", "visibility": "public"}, True),
    ("get_metadef_namespace", OTHER, {"project_id": "P", "visibility": "private"}, False),
])
def test_defaults(rule: str, who: RequestContext, target: dict[str, str],
                  allowed: bool) -> None:
    assert ENGINE.enforce(rule, target, who.to_policy_values()) is allowed


def test_every_rule_the_code_names_is_registered() -> None:
    """Rule names written out in the image package all have a default."""
    root = Path(__file__).resolve().parents[3] / "nubo" / "image"
    named: set[str] = set()
    for path in root.rglob("*.py"):
        named |= set(re.findall(r'authorize\(\s*(?:req\.)?rt,\s*(?:req\.)?ctx,\s*"([a-z_]+)"',
                                path.read_text()))
    assert named, "no rule names found: the pattern is out of date"
    assert named - set(DEFAULTS) == set()
