"""The real ``openstack`` CLI on every identity resource a user or operator manages
with it: domains, groups, roles and implied roles, regions, services, endpoints,
projects with parents and tags, application credentials, trusts, a user's own
password and token revocation."""

from __future__ import annotations

import subprocess
from typing import Any

from tests.cloud import Cloud
from tests.functional.identity.conftest import password_token, unique


def test_cli_domains_and_groups(cloud: Cloud) -> None:
    dname, gname, uname = unique("cd"), unique("cg"), unique("cu")
    domain = cloud.cli_json("domain", "create", "--description", "made by the CLI", dname)
    assert domain["enabled"] is True
    assert dname in [d["Name"] for d in cloud.cli_json("domain", "list")]
    cloud.cli_json("user", "create", "--domain", dname, "--password", "pw", uname)
    group = cloud.cli_json("group", "create", "--domain", dname, gname)
    assert group["domain_id"] == domain["id"]
    cloud.cli("group", "add", "user", "--group-domain", dname, "--user-domain", dname,
              gname, uname)
    contains = cloud.cli("group", "contains", "user", "--group-domain", dname,
                         "--user-domain", dname, gname, uname)
    assert f"{uname} in group {gname}" in contains.stdout
    mine = cloud.cli_json("group", "list", "--user", uname, "--user-domain", dname)
    assert [g["Name"] for g in mine] == [gname]
    cloud.cli("group", "remove", "user", "--group-domain", dname, "--user-domain", dname,
              gname, uname)
    assert cloud.cli_json("group", "list", "--user", uname, "--user-domain", dname) == []
    cloud.cli("group", "delete", "--domain", dname, gname)
    cloud.cli("user", "delete", "--domain", dname, uname)
    refused = cloud.cli("domain", "delete", dname, check=False)
    assert refused.returncode != 0  # enabled domains are not deleted
    cloud.cli("domain", "set", "--disable", dname)
    assert cloud.cli_json("domain", "show", dname)["enabled"] is False
    cloud.cli("domain", "delete", dname)
    assert cloud.cli("domain", "show", dname, check=False).returncode != 0


def test_cli_roles_and_implied_roles(cloud: Cloud) -> None:
    prior, implied = unique("prior"), unique("implied")
    cloud.cli_json("role", "create", prior)
    cloud.cli_json("role", "create", "--domain", "default", implied)
    refused = cloud.cli("implied", "role", "create", "--implied-role", implied, prior,
                        check=False)
    assert refused.returncode != 0  # a global role may not imply a domain role
    cloud.cli("role", "delete", "--domain", "default", implied)
    cloud.cli_json("role", "create", implied)
    made = cloud.cli_json("implied", "role", "create", "--implied-role", implied, prior)
    ids = {r["Name"]: r["ID"] for r in cloud.cli_json("role", "list")}
    assert (made["prior_role"], made["implies"]) == (ids[prior], ids[implied])
    listed = cloud.cli_json("implied", "role", "list")
    assert (prior, implied) in {(r["Prior Role Name"], r["Implied Role Name"]) for r in listed}
    cloud.cli("implied", "role", "delete", "--implied-role", implied, prior)
    for name in (prior, implied):
        cloud.cli("role", "delete", name)
    assert prior not in {r["Name"] for r in cloud.cli_json("role", "list")}


def test_cli_catalog(cloud: Cloud) -> None:
    region, sname = unique("Region"), unique("svc")
    cloud.cli_json("region", "create", "--description", "cli", region)
    service = cloud.cli_json("service", "create", "--name", sname, "--description", "d",
                             "object-store")
    endpoint = cloud.cli_json("endpoint", "create", "--region", region, service["id"],
                              "public", "http://objects.example.test/v1")
    assert endpoint["service_name"] == sname and endpoint["region"] == region
    listed = cloud.cli_json("endpoint", "list", "--service", service["id"])
    assert [(e["Interface"], e["URL"]) for e in listed] == [
        ("public", "http://objects.example.test/v1")]
    cloud.cli("endpoint", "set", "--url", "http://objects.example.test/v2", endpoint["id"])
    assert cloud.cli_json("endpoint", "show", endpoint["id"])["url"].endswith("/v2")
    assert cloud.cli_json("service", "show", sname)["type"] == "object-store"
    assert region in [r["Region"] for r in cloud.cli_json("region", "list")]
    cloud.cli("endpoint", "delete", endpoint["id"])
    cloud.cli("service", "delete", service["id"])
    cloud.cli("region", "delete", region)
    assert cloud.cli("region", "show", region, check=False).returncode != 0


def test_cli_projects_with_parents_and_tags(cloud: Cloud) -> None:
    parent, child = unique("pp"), unique("pc")
    cloud.cli_json("project", "create", "--domain", "default", "--tag", "blue", parent)
    made = cloud.cli_json("project", "create", "--domain", "default", "--parent", parent,
                          child)
    assert made["parent_id"] == cloud.cli_json("project", "show", parent)["id"]
    tagged = cloud.cli_json("project", "list", "--tags", "blue")
    assert [p["Name"] for p in tagged] == [parent]
    cloud.cli("project", "set", "--tag", "green", child)
    assert cloud.cli_json("project", "show", child)["tags"] == ["green"]
    assert cloud.cli("project", "delete", parent, check=False).returncode != 0  # not a leaf
    cloud.cli("project", "delete", child)
    cloud.cli("project", "delete", parent)


def test_cli_application_credentials_as_the_demo_user(cloud: Cloud) -> None:
    name = unique("ac")
    made = cloud.cli_json("application", "credential", "create", "--role", "reader",
                          "--expiration", "2099-01-01T00:00:00", "--description", "ci",
                          name, cloud="nubo")
    assert made["Secret"] and [r["name"] for r in made["Roles"]] == ["reader"]
    assert made["Expires At"].startswith("2099-01-01")
    assert made["Unrestricted"] is False
    listed = cloud.cli_json("application", "credential", "list", cloud="nubo")
    assert name in [c["Name"] for c in listed]
    shown = cloud.cli_json("application", "credential", "show", name, cloud="nubo")
    assert shown["ID"] == made["ID"] and "Secret" not in shown
    cloud.cli("application", "credential", "delete", name, cloud="nubo")
    assert name not in [c["Name"] for c in cloud.cli_json("application", "credential",
                                                          "list", cloud="nubo")]


def test_cli_trusts(cloud: Cloud, admin: Any) -> None:
    trustee = unique("trustee")
    admin.identity.create_user(name=trustee, password="pw", domain_id="default")
    made = cloud.cli_json("trust", "create", "--project", "admin", "--role", "member",
                          "--impersonate", "admin", trustee)
    assert made["is_impersonation"] is True
    assert [r["name"] for r in made["roles"]] == ["member"]
    assert made["id"] in [t["ID"] for t in cloud.cli_json("trust", "list")]
    cloud.cli("trust", "delete", made["id"])
    assert made["id"] not in [t["ID"] for t in cloud.cli_json("trust", "list")]
    admin.identity.delete_user(admin.identity.find_user(trustee))


def test_cli_user_changes_its_own_password_and_revokes_a_token(cloud: Cloud,
                                                              admin: Any) -> None:
    name, project = unique("pwuser"), unique("pwproj")
    p = admin.identity.create_project(name=project, domain_id="default")
    u = admin.identity.create_user(name=name, password="old-pw-1", domain_id="default")
    admin.identity.assign_project_role_to_user(p, u, admin.identity.find_role("member"))
    env_args = ["--os-auth-url", cloud.auth_url, "--os-username", name,
                "--os-user-domain-id", "default", "--os-project-name", project,
                "--os-project-domain-id", "default", "--os-identity-api-version", "3"]
    exe = cloud.cli("--version").args[0]
    done = subprocess.run([exe, *env_args, "--os-password", "old-pw-1", "user", "password",
                           "set", "--original-password", "old-pw-1", "--password", "new-pw-2"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert password_token(cloud, name, "old-pw-1").status_code == 401
    token = password_token(cloud, name, "new-pw-2", {"project": {"id": p.id}})
    assert token.status_code == 201
    cloud.cli("token", "revoke", token.headers["X-Subject-Token"])
    assert cloud.cli("token", "revoke", token.headers["X-Subject-Token"],
                     check=False).returncode != 0
    admin.identity.delete_user(u)
    admin.identity.delete_project(p)
