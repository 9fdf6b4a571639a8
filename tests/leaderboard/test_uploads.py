"""The upload cap: a body larger than it is refused as soon as the cap is passed.

Over HTTP, a client streaming 64 times the cap gets 413 saying the server stopped reading
within one socket read past the cap (uvicorn then discards what the client still sends,
so that the client can read the answer). At the ASGI level, the messages the app pulls
are counted: it stops at the first chunk past the cap, and pulls none when
Content-Length already declares too much.
"""

import asyncio
import json
import re

import pytest

from tests.leaderboard.conftest import UPLOAD_CAP

CHUNK = b"x" * 2**16
# The most one read of asyncio's transports delivers (its max_size), bytes.
MAX_READ = 2**18


def test_a_streamed_upload_far_over_the_cap_is_refused_once_past_the_cap(server, http):
    token = server.token()
    entries, audit_rows = server.counts()

    def body():
        for _ in range(64 * UPLOAD_CAP // len(CHUNK)):
            yield CHUNK

    answer = http.post(
        "/api/v1/entries",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        content=body(),
    )
    assert answer.status_code == 413
    stopped = re.fullmatch(
        rf"the upload is larger than the cap of {UPLOAD_CAP} bytes \(1 MiB, max_upload_bytes\); "
        r"reading stopped after (\d+) bytes\. A results file of that size is too large for "
        r"this server",
        answer.json()["error"],
    )
    # Of 64 MiB sent, the app read at most one read of the socket past the cap.
    assert stopped and UPLOAD_CAP < int(stopped[1]) <= UPLOAD_CAP + MAX_READ
    assert server.counts() == (entries, audit_rows + 1)


def asgi_post(app, token, content_type, chunks, content_length=None):
    """POST ``chunks`` to the app's submission route; return (status, answer, chunks pulled)."""
    pulled = []
    sent = []
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", content_type.encode()),
    ]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/entries",
        "raw_path": b"/api/v1/entries",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }

    async def receive():
        if len(pulled) == len(chunks):
            return {"type": "http.disconnect"}
        pulled.append(chunks[len(pulled)])
        return {"type": "http.request", "body": pulled[-1], "more_body": len(pulled) < len(chunks)}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), len(pulled)


def multipart_chunks(count):
    """A multipart body of ``count`` chunks of 64 KiB: one file part ``results`` of x's."""
    head = (
        b"--b\r\n"
        b'Content-Disposition: form-data; name="results"; filename="results.json"\r\n'
        b"Content-Type: application/json\r\n\r\n"
    )
    return [head + CHUNK[len(head) :]] + [CHUNK] * (count - 1)


@pytest.mark.parametrize(
    ("content_type", "chunks"),
    [
        ("application/json", [CHUNK] * 1000),
        ("multipart/form-data; boundary=b", multipart_chunks(1000)),
    ],
    ids=["json", "multipart"],
)
def test_reading_stops_at_the_first_chunk_past_the_cap(server, content_type, chunks):
    status, answer, pulled = asgi_post(server.app, server.token(), content_type, chunks)
    assert status == 413
    # 16 chunks of 64 KiB are exactly the 1 MiB cap; the 17th passes it.
    assert pulled == UPLOAD_CAP // len(CHUNK) + 1 == 17
    assert f"reading stopped after {17 * len(CHUNK)} bytes" in answer["error"]


def test_a_declared_length_over_the_cap_is_refused_without_reading(server):
    token = server.token()
    before = server.counts()
    status, answer, pulled = asgi_post(
        server.app, token, "application/json", [CHUNK] * 1000, content_length=UPLOAD_CAP + 1
    )
    assert status == 413
    assert pulled == 0
    assert f"its Content-Length is {UPLOAD_CAP + 1}, so none of it was read" in answer["error"]
    assert server.counts() == (before[0], before[1] + 1)


def test_a_body_at_the_cap_is_read_whole(server):
    # Exactly the cap is accepted as a size; it is then refused for not being JSON.
    chunks = [CHUNK] * (UPLOAD_CAP // len(CHUNK))
    status, answer, pulled = asgi_post(server.app, server.token(), "application/json", chunks)
    assert (status, pulled) == (400, len(chunks))
    assert answer["error"].startswith("the request body is not valid JSON")
