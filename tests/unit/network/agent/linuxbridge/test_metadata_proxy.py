"""The metadata proxy's HTTP framing."""

from __future__ import annotations

from nubo.network.agent.linuxbridge.metadata import request_line, response


def test_proxy_http_framing() -> None:
    assert request_line(b"GET /latest/meta-data/ HTTP/1.1\r\nHost: x\r\n\r\n") == \
        ("GET", "/latest/meta-data/")
    assert request_line(b"garbage\r\n\r\n") is None
    assert response(404, "text/plain", b"Not Found") == (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"
        b"Connection: close\r\n\r\nNot Found")
    assert response(200, "text/plain", b"abc", head_only=True).endswith(b"\r\n\r\n")


def test_content_length() -> None:
    from nubo.network.agent.linuxbridge.metadata import content_length

    assert content_length(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n") == 12
    assert content_length(b"POST /x HTTP/1.1\r\ncontent-length:7\r\n\r\n") == 7
    assert content_length(b"POST /x HTTP/1.1\r\nHost: a\r\n\r\n") == 0
    assert content_length(b"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n") is None
    assert content_length(b"POST /x HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n") is None
