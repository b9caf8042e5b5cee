"""Every enabled service is in the catalog and answers keystoneauth's version discovery."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

import requests

from tests.cloud import Cloud


def test_catalog_lists_every_service(cloud: Cloud) -> None:
    conn = cloud.connect("nubo")
    types = {s["type"] for s in conn.config.get_service_catalog().catalog}
    assert {"identity", "image", "placement", "compute"} <= types


def test_version_documents(cloud: Cloud) -> None:
    base = cloud.auth_url.rsplit("/identity", 1)[0]
    compute = requests.get(f"{base}/compute/", timeout=10).json()
    assert [v["id"] for v in compute["versions"]] == ["v2.0", "v2.1"]   # as Nova lists them
    for version in compute["versions"]:        # every link leads to its document
        (link,) = [x for x in version["links"] if x["rel"] == "self"]
        shown = requests.get(link["href"], timeout=10)
        assert shown.status_code == 200 and shown.json()["version"]["id"] == version["id"]
    placement = requests.get(f"{base}/placement/", timeout=10).json()
    assert placement["versions"][0]["id"] == "v1.0"
    image = requests.get(f"{base}/image/", timeout=10)
    assert image.status_code == 300 and image.json()["versions"][0]["status"] == "CURRENT"



def test_an_idle_connection_stays_open_past_a_few_seconds(cloud: Cloud) -> None:
    """A client's pooled connection is kept while it idles (uvicorn's default would
    close it after 5 s, and a request sent as it closes fails)."""
    where = urlsplit(cloud.auth_url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        conn.request("GET", "/identity/v3")
        first = conn.getresponse()
        first.read()
        assert first.status == 200
        sock = conn.sock
        time.sleep(6)
        conn.request("GET", "/identity/v3")
        again = conn.getresponse()
        again.read()
        assert again.status == 200 and conn.sock is sock     # the same connection
    finally:
        conn.close()
