"""The policy engine, driven through PolicyEngine as services and the API edge use it."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from nubo.core.auth.policy import PolicyEngine, PolicyRuleNotRegistered
from nubo.core.errors import ConfigError, PolicyNotAuthorized


def allowed(
    expression: str,
    target: Mapping[str, Any] | None = None,
    creds: Mapping[str, Any] | None = None,
) -> bool:
    engine = PolicyEngine({"subject": expression})
    return engine.enforce("subject", target or {}, creds or {})


def roles(*names: str) -> dict[str, Any]:
    return {"roles": list(names)}


# --- parsing and precedence ------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "held", "expected"),
    [
        # and binds tighter than or: a or (b and c)
        ("role:a or role:b and role:c", ["a"], True),
        ("role:a or role:b and role:c", ["b"], False),
        ("role:a and role:b or role:c", ["c"], True),
        # parentheses regroup
        ("(role:a or role:b) and role:c", ["a"], False),
        ("(role:a or role:b) and role:c", ["b", "c"], True),
        # not binds tighter than and / or
        ("not role:a and role:b", [], False),
        ("not role:a and role:b", ["b"], True),
        ("not role:a or role:b", ["a", "b"], True),
        ("not (role:a or role:b)", ["b"], False),
        ("not not role:a", ["a"], True),
        # keywords ignore case; parentheses may touch checks and keywords
        ("role:a AND role:b", ["a"], False),
        ("role:a Or role:b", ["b"], True),
        ("not(role:a)", ["a"], False),
        ("((role:a))and(role:b)", ["a", "b"], True),
        ("role:a and role:b and role:c", ["a", "b"], False),
        ("role:a or role:b or role:c", ["c"], True),
    ],
)
def test_precedence_and_grouping(expression: str, held: list[str], expected: bool) -> None:
    assert allowed(expression, creds=roles(*held)) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "role:admin and",
        "or role:admin",
        "(role:admin",
        "role:admin)",
        "()",
        "not",
        "admin",
        "role:",
        ":admin",
        "role:a role:b",
        "project_id:%(project_id)d",
        "project_id:%(project_id",
        "'unterminated:%(x)s",
        "http://policy.example.com/check",
    ],
)
def test_syntax_error_in_default_raises_config_error_naming_rule(expression: str) -> None:
    with pytest.raises(ConfigError, match="'identity:get_user'") as raised:
        PolicyEngine({"identity:get_user": expression})
    assert raised.value.details["rule"] == "identity:get_user"


def test_syntax_error_in_override_file_names_rule_and_file(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"identity:get_user": "role:admin or"\n')
    with pytest.raises(ConfigError, match="identity:get_user") as raised:
        PolicyEngine({"identity:get_user": "role:admin"}, policy)
    assert str(policy) in raised.value.message


# --- the special checks ----------------------------------------------------------------


@pytest.mark.parametrize(("expression", "expected"), [("@", True), ("!", False), ("", True)])
def test_always_never_and_empty(expression: str, expected: bool) -> None:
    assert allowed(expression, creds=roles("admin")) is expected


def test_blank_rule_allows_like_empty() -> None:
    assert allowed("   ") is True


def test_never_combines_like_false() -> None:
    assert allowed("! or role:a", creds=roles("a")) is True
    assert allowed("@ and !", creds=roles("a")) is False


# --- role checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "held", "expected"),
    [
        ("role:admin", ["reader", "admin"], True),
        ("role:admin", ["reader"], False),
        ("role:ADMIN", ["admin"], True),
        ("role:admin", ["Admin"], True),
        ("role:admin", [], False),
    ],
)
def test_role_check_ignores_case(expression: str, held: list[str], expected: bool) -> None:
    assert allowed(expression, creds=roles(*held)) is expected


def test_role_check_without_roles_in_creds_is_false() -> None:
    assert allowed("role:admin", creds={"user_id": "u1"}) is False
    assert allowed("role:admin", creds={"roles": None}) is False


def test_role_check_does_not_match_part_of_a_role_given_as_string() -> None:
    assert allowed("role:adm", creds={"roles": "admin"}) is False
    assert allowed("role:admin", creds={"roles": "admin"}) is True


def test_role_name_can_come_from_target() -> None:
    assert allowed("role:%(required)s", {"required": "Member"}, roles("member")) is True
    assert allowed("role:%(required)s", {"required": "admin"}, roles("member")) is False
    assert allowed("role:%(required)s", {}, roles("member")) is False


# --- rule checks -----------------------------------------------------------------------


def test_rule_check_evaluates_referenced_rule() -> None:
    engine = PolicyEngine({"admin_required": "role:admin", "delete": "rule:admin_required"})
    assert engine.enforce("delete", {}, roles("admin")) is True
    assert engine.enforce("delete", {}, roles("member")) is False


def test_rule_check_to_missing_rule_is_false() -> None:
    engine = PolicyEngine({"delete": "rule:nobody_defined_this", "undelete": "not rule:nope"})
    assert engine.enforce("delete", {}, roles("admin")) is False
    assert engine.enforce("undelete", {}, roles("admin")) is True


def test_rule_check_sees_the_override_of_the_referenced_rule(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('admin_required: "role:superuser"\n')
    engine = PolicyEngine({"admin_required": "role:admin", "delete": "rule:admin_required"}, policy)
    assert engine.enforce("delete", {}, roles("admin")) is False
    assert engine.enforce("delete", {}, roles("superuser")) is True


# --- generic checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("creds", "expected"),
    [
        ({"system_scope": "all"}, True),
        ({"system_scope": None}, False),
        ({"system_scope": "other"}, False),
        ({}, False),
    ],
)
def test_generic_check_against_constant(creds: dict[str, Any], expected: bool) -> None:
    assert allowed("system_scope:all", creds=creds) is expected


def test_generic_check_against_quoted_constant_drops_quotes() -> None:
    assert allowed("project_id:'abc def'", creds={"project_id": "abc def"}) is True
    assert allowed("project_id:'abc def'", creds={"project_id": "abc"}) is False


def test_generic_check_substitutes_from_target() -> None:
    rule = "user_id:%(user_id)s"
    assert allowed(rule, {"user_id": "u1"}, {"user_id": "u1"}) is True
    assert allowed(rule, {"user_id": "u2"}, {"user_id": "u1"}) is False


def test_generic_check_substitution_inside_text() -> None:
    rule = "name:vm-%(index)s-%%"
    assert allowed(rule, {"index": 7}, {"name": "vm-7-%"}) is True
    assert allowed(rule, {"index": 8}, {"name": "vm-7-%"}) is False


def test_generic_check_against_list_credential_matches_any_element() -> None:
    creds = {"group_ids": ["g1", "g2"]}
    assert allowed("group_ids:%(group)s", {"group": "g2"}, creds) is True
    assert allowed("group_ids:%(group)s", {"group": "g3"}, creds) is False


def test_generic_check_walks_dotted_credential_path() -> None:
    creds = {"token": {"project": {"id": "p1"}}, "groups": [{"id": "g1"}, {"id": "g2"}]}
    assert allowed("token.project.id:%(project_id)s", {"project_id": "p1"}, creds) is True
    assert allowed("token.project.id:%(project_id)s", {"project_id": "p2"}, creds) is False
    assert allowed("groups.id:g2", creds=creds) is True
    assert allowed("groups.id:g3", creds=creds) is False
    assert allowed("token.user.id:u1", creds=creds) is False


def test_generic_check_compares_non_string_credentials_as_text() -> None:
    assert allowed("is_admin_project:True", creds={"is_admin_project": True}) is True
    assert allowed("is_admin_project:True", creds={"is_admin_project": False}) is False


def test_none_credential_never_matches_even_a_none_target() -> None:
    rule = "project_id:%(project_id)s"
    assert allowed(rule, {"project_id": None}, {"project_id": None}) is False
    assert allowed("project_id:None", creds={"project_id": None}) is False


@pytest.mark.parametrize(
    ("expression", "target", "expected"),
    [
        ("'literal string':%(key)s", {"key": "literal string"}, True),
        ("'literal string':%(key)s", {"key": "literal"}, False),
        ('"a:b":%(key)s', {"key": "a:b"}, True),
        ("True:%(enforce_scope)s", {"enforce_scope": True}, True),
        ("True:%(enforce_scope)s", {"enforce_scope": False}, False),
        ("None:%(target.x)s", {"target": {"x": None}}, True),
        ("None:%(target.x)s", {"target": {"x": "set"}}, False),
        ("None:%(target.x)s", {"target": {}}, False),
        ("20:%(count)s", {"count": 20}, True),
        ("20:%(count)s", {"count": 21}, False),
    ],
)
def test_literal_on_the_left_compares_with_target(
    expression: str, target: dict[str, Any], expected: bool
) -> None:
    # The credentials hold the literal's text as a key: a literal must not read them.
    creds = {"True": "False", "None": "x", "20": "x", "literal string": "x"}
    assert allowed(expression, target, creds) is expected


# --- target lookup ---------------------------------------------------------------------

KEYSTONE_RULE = "domain_id:%(target.user.domain_id)s"


def test_substitution_walks_nested_target() -> None:
    target = {"target": {"user": {"domain_id": "d1"}}}
    assert allowed(KEYSTONE_RULE, target, {"domain_id": "d1"}) is True
    assert allowed(KEYSTONE_RULE, target, {"domain_id": "d2"}) is False


def test_substitution_reads_flat_dotted_key() -> None:
    target = {"target.user.domain_id": "d1"}
    assert allowed(KEYSTONE_RULE, target, {"domain_id": "d1"}) is True
    assert allowed(KEYSTONE_RULE, target, {"domain_id": "d2"}) is False


def test_flat_key_wins_over_nested_walk() -> None:
    target = {"target.user.domain_id": "flat", "target": {"user": {"domain_id": "nested"}}}
    assert allowed(KEYSTONE_RULE, target, {"domain_id": "flat"}) is True
    assert allowed(KEYSTONE_RULE, target, {"domain_id": "nested"}) is False


@pytest.mark.parametrize(
    "target",
    [
        {},
        {"target": {}},
        {"target": {"user": {}}},
        {"target": {"user": "not a dict"}},
        {"target": None},
        {"target.user": {"id": "u1"}},
    ],
)
def test_missing_target_key_makes_check_false(target: dict[str, Any]) -> None:
    creds = {"domain_id": "None", "roles": ["admin"]}
    assert allowed(KEYSTONE_RULE, target, creds) is False
    assert allowed(f"role:admin and {KEYSTONE_RULE}", target, creds) is False
    assert allowed(f"role:admin or {KEYSTONE_RULE}", target, creds) is True


# --- realistic Keystone defaults ---------------------------------------------------------

KEYSTONE_DEFAULTS = {
    "admin_required": "role:admin",
    "identity:get_user": (
        "(role:reader and system_scope:all) or "
        "(role:reader and domain_id:%(target.user.domain_id)s) or "
        "user_id:%(target.user.id)s"
    ),
    "identity:update_user": "rule:admin_required",
    "identity:list_projects": (
        "(role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)"
    ),
}

USER_TARGET = {"target": {"user": {"id": "u-alice", "domain_id": "d-default"}}}


def creds_for(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "user_id": "u-bob",
        "user_domain_id": "d-default",
        "project_id": None,
        "project_domain_id": None,
        "domain_id": None,
        "system_scope": None,
        "roles": [],
        "is_admin_project": False,
        "service_user_id": None,
    }
    return base | values


@pytest.mark.parametrize(
    ("creds", "expected"),
    [
        pytest.param(creds_for(system_scope="all", roles=["reader"]), True, id="system-reader"),
        pytest.param(creds_for(system_scope="all", roles=["member"]), False, id="system-member"),
        pytest.param(
            creds_for(domain_id="d-default", roles=["reader"]), True, id="domain-reader-same"
        ),
        pytest.param(
            creds_for(domain_id="d-other", roles=["reader"]), False, id="domain-reader-other"
        ),
        pytest.param(creds_for(domain_id="d-default", roles=["member"]), False, id="domain-member"),
        pytest.param(creds_for(user_id="u-alice"), True, id="self"),
        pytest.param(
            creds_for(project_id="p1", roles=["admin", "member", "reader"]),
            False,
            id="project-admin-other-user",
        ),
        pytest.param(creds_for(system_scope="project", roles=["reader"]), False, id="bad-scope"),
    ],
)
def test_keystone_get_user(creds: dict[str, Any], expected: bool) -> None:
    engine = PolicyEngine(KEYSTONE_DEFAULTS)
    assert engine.enforce("identity:get_user", USER_TARGET, creds) is expected


def test_keystone_get_user_with_flattened_target() -> None:
    engine = PolicyEngine(KEYSTONE_DEFAULTS)
    flat = {"target.user.id": "u-alice", "target.user.domain_id": "d-default"}
    reader = creds_for(domain_id="d-default", roles=["reader"])
    assert engine.enforce("identity:get_user", flat, reader) is True
    assert engine.enforce("identity:get_user", {"target.user.id": "u-alice"}, reader) is False


def test_keystone_update_user_needs_admin() -> None:
    engine = PolicyEngine(KEYSTONE_DEFAULTS)
    assert engine.enforce("identity:update_user", USER_TARGET, creds_for(roles=["Admin"]))
    assert not engine.enforce("identity:update_user", USER_TARGET, creds_for(roles=["reader"]))


# --- enforce, authorize, unknown rules ---------------------------------------------------


def test_authorize_passes_silently_and_raises_policy_not_authorized() -> None:
    engine = PolicyEngine(KEYSTONE_DEFAULTS)
    engine.authorize("identity:update_user", {}, creds_for(roles=["admin"]))
    with pytest.raises(PolicyNotAuthorized) as raised:
        engine.authorize("identity:update_user", {}, creds_for(roles=["reader"]))
    assert raised.value.rule == "identity:update_user"
    assert raised.value.status == 403


def test_unknown_rule_is_a_programming_error_not_a_denial() -> None:
    engine = PolicyEngine(KEYSTONE_DEFAULTS)
    with pytest.raises(PolicyRuleNotRegistered, match="identity:get_usr"):
        engine.enforce("identity:get_usr", {}, creds_for(roles=["admin"]))
    with pytest.raises(PolicyRuleNotRegistered):
        engine.authorize("identity:get_usr", {}, creds_for(roles=["admin"]))


# --- override file -----------------------------------------------------------------------


def test_yaml_override_replaces_default(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"identity:get_user": "role:admin"\n')
    engine = PolicyEngine(KEYSTONE_DEFAULTS, policy)
    system_reader = creds_for(system_scope="all", roles=["reader"])
    assert engine.enforce("identity:get_user", USER_TARGET, system_reader) is False
    assert engine.enforce("identity:get_user", USER_TARGET, creds_for(roles=["admin"])) is True
    assert engine.rules["identity:get_user"] == "role:admin"
    assert engine.rules["identity:list_projects"] == KEYSTONE_DEFAULTS["identity:list_projects"]


def test_json_override_replaces_default(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"identity:update_user": "@"}))
    engine = PolicyEngine(KEYSTONE_DEFAULTS, policy)
    assert engine.enforce("identity:update_user", {}, creds_for()) is True


def test_empty_override_file_keeps_defaults(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("# nothing overridden\n")
    engine = PolicyEngine(KEYSTONE_DEFAULTS, policy)
    assert dict(engine.rules) == KEYSTONE_DEFAULTS


def test_override_file_may_add_rules_and_warns_about_unused_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'owner: "user_id:%(target.user.id)s"\n'
        '"identity:update_user": "rule:owner"\n'
        '"identity:get_usr": "role:admin"\n'
    )
    with caplog.at_level(logging.WARNING, logger="nubo.core.auth.policy"):
        engine = PolicyEngine(KEYSTONE_DEFAULTS, policy)
    assert engine.enforce("identity:update_user", USER_TARGET, creds_for(user_id="u-alice"))
    assert engine.enforce("owner", USER_TARGET, creds_for(user_id="u-alice"))
    warned = [record.getMessage() for record in caplog.records]
    assert len(warned) == 1
    assert "identity:get_usr" in warned[0]


def test_reload_rereads_override_file(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"identity:update_user": "@"\n')
    engine = PolicyEngine(KEYSTONE_DEFAULTS, policy)
    assert engine.enforce("identity:update_user", {}, creds_for()) is True
    policy.write_text("{}\n")
    engine.reload()
    assert engine.enforce("identity:update_user", {}, creds_for()) is False
    assert engine.rules["identity:update_user"] == "rule:admin_required"


def test_failed_reload_keeps_rules_in_force(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"identity:update_user": "@"\n')
    engine = PolicyEngine(KEYSTONE_DEFAULTS, policy)
    policy.write_text('"identity:update_user": "role:admin and"\n')
    with pytest.raises(ConfigError, match="identity:update_user"):
        engine.reload()
    assert engine.enforce("identity:update_user", {}, creds_for()) is True
    assert engine.rules["identity:update_user"] == "@"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("policy.yaml", "- role:admin\n"),
        ("policy.yaml", '"identity:get_user": ["role:admin"]\n'),
        ("policy.yaml", '"identity:get_user":\n'),
        ("policy.yaml", '"identity:get_user": "role:admin\n'),
        ("policy.json", '{"identity:get_user": '),
    ],
)
def test_malformed_override_file_raises_config_error(
    tmp_path: Path, name: str, content: str
) -> None:
    policy = tmp_path / name
    policy.write_text(content)
    with pytest.raises(ConfigError, match="policy file"):
        PolicyEngine(KEYSTONE_DEFAULTS, policy)


def test_missing_override_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read policy file"):
        PolicyEngine(KEYSTONE_DEFAULTS, tmp_path / "absent.yaml")


# --- cycles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("defaults", "cycle"),
    [
        ({"a": "rule:a"}, "a -> a"),
        ({"a": "rule:b", "b": "role:x or rule:a"}, "a -> b -> a"),
        (
            {"d": "rule:a", "a": "role:x and rule:b", "b": "rule:c", "c": "not rule:a"},
            "a -> b -> c -> a",
        ),
    ],
)
def test_cycle_raises_config_error(defaults: dict[str, str], cycle: str) -> None:
    with pytest.raises(ConfigError, match="cycle") as raised:
        PolicyEngine(defaults)
    assert raised.value.message.endswith(cycle)
    assert raised.value.details["rule"] == "a"


def test_shared_rule_referenced_twice_is_not_a_cycle() -> None:
    engine = PolicyEngine({"base": "role:x", "left": "rule:base", "top": "rule:left and rule:base"})
    assert engine.enforce("top", {}, roles("x")) is True


def test_override_closing_a_cycle_raises_config_error(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('admin_required: "rule:identity:update_user"\n')
    with pytest.raises(ConfigError, match="cycle"):
        PolicyEngine(KEYSTONE_DEFAULTS, policy)


# --- registering defaults later ------------------------------------------------------------


def test_register_defaults_adds_rules() -> None:
    engine = PolicyEngine({})
    with pytest.raises(PolicyRuleNotRegistered):
        engine.enforce("compute:servers:create", {}, roles("member"))
    engine.register_defaults({"compute:servers:create": "role:member"})
    assert engine.enforce("compute:servers:create", {}, roles("member")) is True
    assert engine.rules == {"compute:servers:create": "role:member"}


def test_override_file_wins_over_defaults_registered_later(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"compute:servers:create": "!"\n')
    engine = PolicyEngine({}, policy)
    engine.register_defaults({"compute:servers:create": "role:member"})
    assert engine.enforce("compute:servers:create", {}, roles("member")) is False


def test_register_defaults_rejects_conflicting_duplicate() -> None:
    engine = PolicyEngine({"admin_required": "role:admin"})
    engine.register_defaults({"admin_required": "role:admin"})
    with pytest.raises(ValueError, match="admin_required"):
        engine.register_defaults({"admin_required": "role:root"})
    assert engine.rules["admin_required"] == "role:admin"


def test_register_defaults_closing_a_cycle_changes_nothing() -> None:
    engine = PolicyEngine({"a": "rule:b"})
    with pytest.raises(ConfigError, match="cycle"):
        engine.register_defaults({"b": "rule:a", "c": "@"})
    assert dict(engine.rules) == {"a": "rule:b"}
    with pytest.raises(PolicyRuleNotRegistered):
        engine.enforce("c", {}, {})


def test_register_defaults_with_syntax_error_raises_config_error() -> None:
    engine = PolicyEngine({})
    with pytest.raises(ConfigError, match="'image:upload'"):
        engine.register_defaults({"image:upload": "role:member or or role:admin"})


def test_rules_view_is_read_only() -> None:
    engine = PolicyEngine({"a": "@"})
    with pytest.raises(TypeError):
        engine.rules["a"] = "!"  # type: ignore[index]
    assert engine.enforce("a", {}, {}) is True
