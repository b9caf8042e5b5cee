"""Keypairs: import and generation, fingerprints as ssh-keygen computes them,
per-user visibility, microversions 2.2/2.10/2.35/2.92, quota and policy."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.cloud import Cloud
from tests.functional.compute.nova import Nova, fault, unique

KEY_TYPES = {"rsa": ["-t", "rsa", "-b", "2048"], "ed25519": ["-t", "ed25519"],
             "ecdsa": ["-t", "ecdsa", "-b", "256"]}


def ssh_key(kind: str = "ed25519") -> tuple[str, str]:
    """A fresh public key and its MD5 fingerprint, both from ssh-keygen."""
    if shutil.which("ssh-keygen") is None:
        pytest.fail("ssh-keygen is needed (openssh-client)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "k"
        subprocess.run(["ssh-keygen", "-q", *KEY_TYPES[kind], "-N", "", "-f", str(path)],
                       check=True)
        public = (path.with_suffix(".pub")).read_text().strip()
        out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", f"{path}.pub"],
                             check=True, capture_output=True, text=True).stdout
    fingerprint = out.split()[1].removeprefix("MD5:")
    return public, fingerprint


@pytest.mark.parametrize("kind", ["rsa", "ed25519", "ecdsa"])
def test_import_fingerprint_matches_ssh_keygen(make_user: Any, kind: str) -> None:
    user = make_user()
    public, fingerprint = ssh_key(kind)
    r = user.post("/os-keypairs", {"keypair": {"name": f"k-{kind}", "public_key": public}},
                  version="2.2")
    assert r.status_code == 201, r.text
    made = r.json()["keypair"]
    assert made["fingerprint"] == fingerprint and made["type"] == "ssh"
    assert made["user_id"] == user.user_id and "private_key" not in made
    shown = user.get(f"/os-keypairs/k-{kind}").json()["keypair"]
    assert shown["public_key"] == public and shown["fingerprint"] == fingerprint


def test_sdk_generate_list_get_delete(admin_conn: Any) -> None:
    name = unique("gen")
    made = admin_conn.compute.create_keypair(name=name)
    try:
        assert "PRIVATE KEY" in made.private_key and made.public_key.startswith("ssh-rsa ")
        assert name in {k.name for k in admin_conn.compute.keypairs()}
        assert admin_conn.compute.get_keypair(name).fingerprint == made.fingerprint
    finally:
        admin_conn.compute.delete_keypair(name)
    assert name not in {k.name for k in admin_conn.compute.keypairs()}


def test_cli_create_with_public_key_list_delete(cloud: Cloud, admin_nova: Nova) -> None:
    public, fingerprint = ssh_key("rsa")
    name = unique("cli")
    with tempfile.NamedTemporaryFile("w", suffix=".pub") as f:
        f.write(public)
        f.flush()
        made = cloud.cli_json("keypair", "create", "--public-key", f.name, name)
    assert made["fingerprint"] == fingerprint
    assert name in {k["Name"] for k in cloud.cli_json("keypair", "list")}
    cloud.cli("keypair", "delete", name)
    # (each CLI call costs seconds: the rest is checked over HTTP)
    fault(admin_nova.get(f"/os-keypairs/{name}"), 404, "itemNotFound")


def test_bad_input(admin_nova: Nova) -> None:
    def create(body: dict[str, Any], version: str = "2.2") -> Any:
        return admin_nova.post("/os-keypairs", {"keypair": body}, version=version)

    assert "invalid" in fault(create({"name": unique(), "public_key": "ssh-rsa AAAAnotakey"}),
                              400, "badRequest")
    fault(create({"name": unique(), "public_key": "garbage"}), 400, "badRequest")
    fault(create({"name": "bad@name", "public_key": ssh_key()[0]}), 400, "badRequest")
    fault(create({"name": ""}), 400, "badRequest")
    fault(create({"public_key": ssh_key()[0]}), 400, "badRequest")
    fault(create({"name": unique(), "type": "pgp"}), 400, "badRequest")
    fault(create({"name": unique(), "type": "x509"}, "2.1"), 400, "badRequest")
    fault(create({"name": unique(), "extra": 1}), 400, "badRequest")
    # the newest served microversion (2.90) still generates keys
    r = create({"name": unique()}, "2.90")
    assert r.status_code == 201 and "PRIVATE KEY" in r.json()["keypair"]["private_key"]
    admin_nova.delete(f"/os-keypairs/{r.json()['keypair']['name']}", version="2.90")


def test_duplicate_and_missing(admin_nova: Nova) -> None:
    name = unique("dup")
    public = ssh_key()[0]
    assert admin_nova.post("/os-keypairs", {"keypair": {"name": name, "public_key": public}}
                           ).status_code == 200
    fault(admin_nova.post("/os-keypairs", {"keypair": {"name": name, "public_key": public}}),
          409, "conflictingRequest")
    assert admin_nova.delete(f"/os-keypairs/{name}").status_code == 202
    fault(admin_nova.get(f"/os-keypairs/{name}"), 404, "itemNotFound")
    fault(admin_nova.delete(f"/os-keypairs/{name}"), 404, "itemNotFound")


def test_microversion_shapes(make_user: Any) -> None:
    user = make_user()
    r = user.post("/os-keypairs", {"keypair": {"name": "old", "public_key": ssh_key()[0]}},
                  version="2.1")
    assert r.status_code == 200 and "type" not in r.json()["keypair"]
    listed = user.get("/os-keypairs", version="2.1").json()["keypairs"]
    assert "type" not in listed[0]["keypair"]
    assert user.get("/os-keypairs", version="2.2").json()["keypairs"][0]["keypair"][
        "type"] == "ssh"
    assert user.delete("/os-keypairs/old", version="2.1").status_code == 202
    r = user.post("/os-keypairs", {"keypair": {"name": "new", "public_key": ssh_key()[0]}},
                  version="2.2")
    assert r.status_code == 201
    assert user.delete("/os-keypairs/new", version="2.2").status_code == 204


def test_x509_import(make_user: Any) -> None:
    import datetime as dt
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nubo-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    der = cert.public_bytes(serialization.Encoding.DER)
    expected = ":".join(f"{b:02x}" for b in hashlib.sha1(der).digest())
    user = make_user()
    r = user.post("/os-keypairs", {"keypair": {"name": "cert", "public_key": pem,
                                               "type": "x509"}}, version="2.2")
    assert r.status_code == 201, r.text
    assert r.json()["keypair"]["fingerprint"] == expected
    assert r.json()["keypair"]["type"] == "x509"
    # generated: the certificate is the public key, the private key comes back once
    r = user.post("/os-keypairs", {"keypair": {"name": "gen-cert", "type": "x509"}},
                  version="2.2")
    assert r.status_code == 201, r.text
    made = r.json()["keypair"]
    assert made["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" in made["private_key"]
    der = x509.load_pem_x509_certificate(made["public_key"].encode()).public_bytes(
        serialization.Encoding.DER)
    assert made["fingerprint"] == ":".join(f"{b:02x}" for b in hashlib.sha1(der).digest())


def test_keypairs_are_per_user(admin_nova: Nova, make_user: Any) -> None:
    first = make_user()
    second = make_user(project_id=first.project_id)
    first.post("/os-keypairs", {"keypair": {"name": "mine", "public_key": ssh_key()[0]}})
    assert second.get("/os-keypairs").json()["keypairs"] == []
    fault(second.get("/os-keypairs/mine"), 404, "itemNotFound")
    fault(second.delete("/os-keypairs/mine"), 404, "itemNotFound")
    # 2.10: admins reach another user's keypairs; members may not
    params = {"user_id": first.user_id}
    listed = admin_nova.get("/os-keypairs", params=params, version="2.10").json()["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == ["mine"]
    assert admin_nova.get("/os-keypairs/mine", params=params, version="2.10").ok
    # below 2.10 the user_id parameter is ignored
    assert admin_nova.get("/os-keypairs/mine", params=params, version="2.9").status_code == 404
    fault(second.get("/os-keypairs", params=params, version="2.10"), 403, "forbidden")
    fault(second.get("/os-keypairs/mine", params=params, version="2.10"), 403, "forbidden")
    fault(second.delete("/os-keypairs/mine", params=params, version="2.10"), 403, "forbidden")
    body = {"keypair": {"name": "forged", "public_key": ssh_key()[0],
                        "user_id": first.user_id}}
    fault(second.post("/os-keypairs", body, version="2.10"), 403, "forbidden")
    r = admin_nova.post("/os-keypairs", body, version="2.10")
    assert r.status_code == 201 and r.json()["keypair"]["user_id"] == first.user_id
    assert {k["keypair"]["name"] for k in first.get("/os-keypairs").json()["keypairs"]} == {
        "mine", "forged"}
    assert admin_nova.delete("/os-keypairs/forged", params=params,
                             version="2.10").status_code == 204


def test_paging_at_2_35(make_user: Any) -> None:
    user = make_user()
    for name in ("a", "b", "c"):
        user.post("/os-keypairs", {"keypair": {"name": name, "public_key": ssh_key()[0]}})
    page = user.get("/os-keypairs", params={"limit": 2}, version="2.35").json()
    assert [k["keypair"]["name"] for k in page["keypairs"]] == ["a", "b"]
    assert "marker=b" in page["keypairs_links"][0]["href"]
    rest = user.get("/os-keypairs", params={"marker": "b"}, version="2.35").json()
    assert [k["keypair"]["name"] for k in rest["keypairs"]] == ["c"]
    assert "keypairs_links" not in rest
    # before 2.35 limit is ignored
    assert len(user.get("/os-keypairs", params={"limit": 1}).json()["keypairs"]) == 3
    fault(user.get("/os-keypairs", params={"marker": "zz"}, version="2.35"), 400,
          "badRequest")


def test_key_pairs_quota(admin_nova: Nova, make_user: Any) -> None:
    user = make_user()
    r = admin_nova.put(f"/os-quota-sets/{user.project_id}", {"quota_set": {"key_pairs": 1}})
    assert r.status_code == 200, r.text
    assert user.post("/os-keypairs", {"keypair": {"name": "one",
                                                  "public_key": ssh_key()[0]}}).ok
    msg = fault(user.post("/os-keypairs", {"keypair": {"name": "two",
                                                       "public_key": ssh_key()[0]}}),
                403, "forbidden")
    assert "too many key pairs" in msg


def test_concurrent_creations_respect_the_quota(admin_nova: Nova, make_user: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    user = make_user()
    assert admin_nova.put(f"/os-quota-sets/{user.project_id}",
                          {"quota_set": {"key_pairs": 3}}).ok
    keys = [ssh_key()[0] for _ in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: user.post("/os-keypairs", {"keypair": {
            "name": f"k{i}", "public_key": keys[i]}}), range(10)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 3 + [403] * 7, [r.text for r in results]
    assert len(user.get("/os-keypairs").json()["keypairs"]) == 3
