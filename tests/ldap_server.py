"""A private OpenLDAP server for tests: ``slapd`` from Debian's packages on a
free 127.0.0.1 port, with its own slapd.conf and mdb database under a temp dir,
seeded with ``ldapadd``."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cloud import free_port

SUFFIX = "dc=nubo,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "ldap-admin-secret"
USERS_DN = f"ou=Users,{SUFFIX}"
GROUPS_DN = f"ou=UserGroups,{SUFFIX}"

SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")

# (id = cn, name = sn, mail, password, employeeType used as the enabled flag)
USERS = [
    ("u-alice", "alice", "alice@nubo.test", "alice-pw-1", "TRUE"),
    ("u-bob", "bob", "bob@nubo.test", "bob-pw-2", "TRUE"),
    ("u-carol", "carol", None, "carol-pw-3", "FALSE"),
]
# (id = cn, name = ou, description, member ids)
GROUPS = [
    ("g-devs", "developers", "People who write code", ["u-alice", "u-bob"]),
    ("g-ops", "operators", "People who run it", ["u-bob"]),
]


def user_dn(local_id: str) -> str:
    return f"cn={local_id},{USERS_DN}"


def seed_ldif() -> str:
    parts = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: nubo\no: nubo\n",
        f"dn: {USERS_DN}\nobjectClass: organizationalUnit\nou: Users\n",
        f"dn: {GROUPS_DN}\nobjectClass: organizationalUnit\nou: UserGroups\n",
    ]
    for cn, sn, mail, password, enabled in USERS:
        entry = (f"dn: {user_dn(cn)}\nobjectClass: inetOrgPerson\ncn: {cn}\nsn: {sn}\n"
                 f"userPassword: {password}\nemployeeType: {enabled}\n"
                 f"description: LDAP user {sn}\n")
        parts.append(entry + (f"mail: {mail}\n" if mail else ""))
    for cn, ou, desc, members in GROUPS:
        lines = [f"dn: cn={cn},{GROUPS_DN}", "objectClass: groupOfNames", f"cn: {cn}",
                 f"ou: {ou}", f"description: {desc}"]
        lines += [f"member: {user_dn(m)}" for m in members]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def options(url: str) -> dict[str, object]:
    """The domain's ldap table for this directory (Keystone's option names)."""
    return {
        "url": url, "user": ADMIN_DN, "password": ADMIN_PASSWORD, "suffix": SUFFIX,
        "user_tree_dn": USERS_DN, "group_tree_dn": GROUPS_DN,
        "user_enabled_attribute": "employeeType",
    }


def toml_table(domain_id: str, table: dict[str, object]) -> str:
    """``table`` as the ``[identity.domain_ldap.<domain id>]`` table of nubo.toml."""
    lines = [f"[identity.domain_ldap.{domain_id}]"]
    lines += [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


@dataclass
class LdapServer:
    root: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def start(self) -> None:
        data = self.root / "data"
        data.mkdir(parents=True)
        conf = self.root / "slapd.conf"
        conf.write_text(
            "".join(f"include {SCHEMA_DIR / s}.schema\n"
                    for s in ("core", "cosine", "inetorgperson"))
            + f"modulepath {MODULE_DIR}\nmoduleload back_mdb\n"
            + f"pidfile {self.root / 'slapd.pid'}\n"
            + f'database mdb\nmaxsize 67108864\nsuffix "{SUFFIX}"\nrootdn "{ADMIN_DN}"\n'
            + f"rootpw {ADMIN_PASSWORD}\ndirectory {data}\n"
            # connection counters under cn=Monitor, read by the pooling tests
            + f'database monitor\naccess to * by dn.exact="{ADMIN_DN}" read by * none\n')
        self._run()

    def restart(self) -> None:
        """Stop slapd (dropping every connection) and start it again on the same data."""
        self.stop()
        self._run()

    def _run(self) -> None:
        log = (self.root / "slapd.log").open("ab")
        self.proc = subprocess.Popen(
            [slapd_path(), "-d", "0", "-h", f"{self.url}/", "-f",
             str(self.root / "slapd.conf")], stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited: {self.log_tail()}")
            if self._search_base().returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"slapd did not start: {self.log_tail()}")

    def _search_base(self) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["ldapsearch", "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD,
             "-s", "base", "-b", "", "(objectClass=*)"], capture_output=True, timeout=10)

    def connections_opened(self) -> int:
        """How many connections slapd has accepted since it started (this query's own
        included)."""
        result = subprocess.run(
            ["ldapsearch", "-x", "-LLL", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD,
             "-s", "base", "-b", "cn=Total,cn=Connections,cn=Monitor", "monitorCounter"],
            capture_output=True, timeout=10, check=True)
        for line in result.stdout.decode().splitlines():
            if line.startswith("monitorCounter:"):
                return int(line.split(":", 1)[1])
        raise RuntimeError(f"no connection counter in {result.stdout.decode()!r}")

    def ldapadd(self, ldif: str) -> None:
        result = subprocess.run(
            ["ldapadd", "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
            input=ldif.encode(), capture_output=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"ldapadd failed: {result.stderr.decode()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, n: int = 20) -> str:
        path = self.root / "slapd.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def slapd_path() -> str:
    return shutil.which("slapd") or "/usr/sbin/slapd"


def missing() -> str | None:
    """Why an LDAP server cannot run here, or None."""
    for tool in ("slapd", "ldapadd", "ldapsearch"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            return f"{tool} is not installed (apt-get install slapd ldap-utils, or make sys-deps)"
    if not (MODULE_DIR / "back_mdb.so").exists() and not (MODULE_DIR / "back_mdb.la").exists():
        return f"the OpenLDAP mdb module is not in {MODULE_DIR}"
    return None


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    """A seeded slapd for the whole session; skipped with the reason when slapd is
    not installed."""
    reason = missing()
    if reason:
        print(f"skipping LDAP tests: {reason}")
        pytest.skip(reason)
    server = LdapServer(tmp_path_factory.mktemp("slapd"), free_port())
    try:
        server.start()
        server.ldapadd(seed_ldif())
        yield server
    finally:
        server.stop()
