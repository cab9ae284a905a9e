"""The webhook action against a real local HTTP server: each outcome, on both stores."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.platforms.webhook import WebhookPlatform
from shequn.sop.dispatch import Dispatcher, Policy
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.action_helpers import JOIN, configure, sop_events
from tests.sop.helpers import add_events, at, write_playbook

HOOK = """
    name: crm
    applies_to:
      communities: [club]
    trigger:
      type: member_joined
    steps:
      - id: push
        at: "+0m"
        action:
          type: webhook
          url_env: CRM_HOOK
          timeout: 0.5
          body: '{"member": "{{ member.key }}", "club": "{{ community.name }}"}'
        owner: alice
        emergency: {do: "add them to the CRM by hand", alert: alice}
"""
KEY = f"crm|push|wx:alice|{JOIN}"


class Server:
    """A local HTTP server answering POST /<status> with that status; /hang never answers
    until the test ends. Every request is kept (path, headers, body)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.requests.append((self.path, dict(self.headers), body))
                if self.path == "/hang":
                    server.release.wait(10)
                    return
                status = int(self.path.strip("/"))
                answer = b"nope" if status >= 400 else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.stop()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _drain(ws: Workspace, clock: FrozenClock, url: str | None) -> object:
    hook = WebhookPlatform(environ={"CRM_HOOK": url} if url else {})
    policy = Policy(max_attempts=3)
    return Dispatcher(ws.engine, {"webhook": hook}, clock, "a", policy, ws.settings).drain_once()


def _queued(ws: Workspace, clock: FrozenClock) -> None:
    configure(ws)
    write_playbook(ws, "crm", HOOK)
    from shequn.services.sop import tick

    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    add_events(ws, [("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "")])
    tick(ws, at(clock, "2026-11-01T01:00:00+00:00"))


def _row(ws: Workspace, key: str = KEY) -> tuple:
    with ws.engine.connect() as conn:
        query = select(outbox.c.state, outbox.c.attempts, outbox.c.reason, outbox.c.platform)
        return tuple(conn.execute(query.where(outbox.c.key == key)).one())


def test_2xx_is_sent_with_the_idempotency_key_and_the_body(
    ws: Workspace, clock: FrozenClock, server: Server
) -> None:
    _queued(ws, clock)
    assert _row(ws)[-1] == "webhook"
    outcome = _drain(ws, clock, server.url + "/201")
    assert [r.key for r in outcome.sent] == [KEY]
    [(path, headers, body)] = server.requests
    assert (path, headers["Idempotency-Key"], headers["Content-Type"]) == (
        "/201",
        KEY,
        "application/json",
    )
    assert json.loads(body) == {"member": "wx:alice", "club": "读书会"}
    assert _row(ws) == ("sent", 0, None, "webhook")
    assert sop_events(ws, "message_sent") == [
        ("message_sent", "wx:alice", None, None, f"message_sent|{KEY}")
    ]
    with ws.engine.connect() as conn:  # the URL (a secret) is nowhere in the store
        assert server.url not in conn.scalar(select(outbox.c.payload))


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/503", "HTTP 503 Service Unavailable: nope"),
        ("/429", "HTTP 429 Too Many Requests: nope"),
        ("/hang", "no answer within 0.5 s"),
    ],
)
def test_5xx_and_timeouts_are_retried(
    ws: Workspace, clock: FrozenClock, server: Server, path: str, reason: str
) -> None:
    _queued(ws, clock)
    outcome = _drain(ws, clock, server.url + path)
    assert [(r.key, why) for r, why in outcome.retry] == [(KEY, reason)]
    assert _row(ws) == ("retry", 1, reason, "webhook")
    assert sop_events(ws, "action_failed") == [
        ("action_failed", "wx:alice", None, None, f"action_failed|{KEY}#1")
    ]


def test_a_refused_connection_is_retried(ws: Workspace, clock: FrozenClock) -> None:
    _queued(ws, clock)
    outcome = _drain(ws, clock, f"http://127.0.0.1:{_closed_port()}/")
    [(_, why)] = outcome.retry
    assert why.startswith("connection failed: ConnectError")
    assert _row(ws)[:2] == ("retry", 1)


def test_4xx_is_dead_at_once_and_alerts_the_emergency_contact(
    ws: Workspace, clock: FrozenClock, server: Server
) -> None:
    _queued(ws, clock)
    outcome = _drain(ws, clock, server.url + "/400")
    assert [(r.key, why) for r, why in outcome.dead] == [(KEY, "HTTP 400 Bad Request: nope")]
    assert _row(ws) == ("dead", 1, "HTTP 400 Bad Request: nope", "webhook")
    assert len(server.requests) == 1
    assert sop_events(ws, "action_dead") == [
        ("action_dead", "wx:alice", None, None, f"action_dead|{KEY}")
    ]
    with ws.engine.connect() as conn:
        alert = conn.execute(select(outbox).where(outbox.c.key == f"{KEY}|emergency")).one()
    assert (alert.state, alert.platform, alert.target, alert.action) == (
        "pending",
        "console",
        "alice",
        "alert_owner",
    )
    assert json.loads(alert.payload) == {
        "text": "crm/push for wx:alice in club failed: HTTP 400 Bad Request: nope. "
        "Emergency plan: add them to the CRM by hand",
        "to": "alice",
        "why": "emergency",
    }


def test_a_missing_url_variable_is_permanent(ws: Workspace, clock: FrozenClock) -> None:
    _queued(ws, clock)
    outcome = _drain(ws, clock, None)
    reason = "environment variable CRM_HOOK (the webhook's URL) is not set"
    assert [why for _, why in outcome.dead] == [reason]
    assert _row(ws) == ("dead", 1, reason, "webhook")
