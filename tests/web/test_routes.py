"""Every route, as every role: the allowed set, CSRF on writes, headers, escaping."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from shequn.services.users import ROLES
from shequn.web.app import routers
from shequn.web.auth import PERMISSIONS
from tests.web.conftest import HOSTILE, csrf_of

PUBLIC = {"/login", "/signup/{name}/{token}"}  # the member's sign-up page: tests/web/test_signup.py
# Example values for the path parameters of GET routes.
EXAMPLES = {
    "{name}": "talk",
    "{key:path}": "wx:alice",
    "{fmt}": "csv",
    "{task_id}": "1",
    "{job}": "0",
}
# Downloads whose formats differ from the lists' json/csv/xlsx.
FORMAT_OF = {"/reviews/download.{fmt}": "md"}
QUERIES = {
    "/": "?from=2026-10-01&to=2026-11-01",
    "/dashboard/goals": "?from=2026-10-01&to=2026-11-01",
    "/dashboard/crossings": "?from=2026-10-01&to=2026-11-01",
}


def permission_of(route: APIRoute) -> str | None:
    for dependency in route.dependant.dependencies:
        found = getattr(dependency.call, "permission", None)
        if found:
            return found
    return None


def _routes(_app) -> list[APIRoute]:  # type: ignore[no-untyped-def]
    found = [r for router in routers() for r in router.routes if isinstance(r, APIRoute)]
    assert len(found) >= 20  # the walk must see the routes, or it tests nothing
    return found


def test_every_route_declares_a_permission(app) -> None:  # type: ignore[no-untyped-def]
    missing = [r.path for r in _routes(app) if r.path not in PUBLIC and not permission_of(r)]
    assert missing == []


def _get_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    out = []
    for route in _routes(app):
        if "GET" not in route.methods or route.path in PUBLIC:
            continue
        url = route.path.replace("{fmt}", FORMAT_OF.get(route.path, "{fmt}"))
        for name, value in EXAMPLES.items():
            url = url.replace(name, value)
        out.append((url + QUERIES.get(route.path, ""), permission_of(route)))
    return out


@pytest.mark.parametrize("role", ROLES)
def test_every_get_route_as_every_role(app, clients, role) -> None:  # type: ignore[no-untyped-def]
    client = clients[role]
    for url, permission in _get_routes(app):
        response = client.get(url, follow_redirects=False)
        allowed = role in PERMISSIONS[permission]
        ok = 400 if url.startswith("/imports/jobs/") else 200  # no such job: a clear error
        assert response.status_code == (ok if allowed else 403), (url, role, response.text[:300])


def test_signed_out_is_sent_to_sign_in(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    for url, _permission in _get_routes(app):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=")


def test_posts_without_the_csrf_token_are_refused(app, clients) -> None:  # type: ignore[no-untyped-def]
    client = clients["owner"]
    for route in _routes(app):
        if "POST" not in route.methods or route.path in PUBLIC:
            continue
        url = route.path
        for name, value in EXAMPLES.items():
            url = url.replace(name, value)
        response = client.post(url, data={"csrf": "forged"}, follow_redirects=False)
        assert response.status_code == 403, (url, response.text[:200])
        assert "CSRF" in response.text


def test_sign_in_needs_the_form_token(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    response = client.post("/login", data={"name": "owner", "password": "x", "csrf": "x"})
    assert response.status_code == 403


def test_language_switch_with_the_token(clients) -> None:  # type: ignore[no-untyped-def]
    client = clients["viewer"]
    token = csrf_of(client, "/?from=2026-10-01&to=2026-11-01")
    answer = client.post(
        "/language",
        data={"csrf": token, "lang": "en", "next": "//evil.example"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_security_headers(clients) -> None:  # type: ignore[no-untyped-def]
    response = clients["viewer"].get("/?from=2026-10-01&to=2026-11-01")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_no_inline_script_or_handler_in_any_page(app, clients) -> None:  # type: ignore[no-untyped-def]
    client = clients["owner"]
    for url, _permission in _get_routes(app):
        response = client.get(url)
        kind = response.headers["content-type"]
        # Data downloads (csv, xlsx, md) hold the text as it is, as attachments.
        if kind.startswith("application/json"):
            assert HOSTILE not in response.text, url
        if not kind.startswith("text/html"):
            continue
        assert HOSTILE not in response.text, url
        body = response.text
        scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", body)
        assert all('type="application/json"' in attrs for attrs in scripts), url
        assert not re.search(r"\son[a-z]+\s*=", body), url


def test_scoped_operator_cannot_see_the_workspace_or_another_community(clients) -> None:  # type: ignore[no-untyped-def]
    client = clients["scoped"]
    assert client.get("/?community=*").status_code == 403
    assert client.get("/?community=book-club").status_code == 403


def test_review_downloads_and_the_scoped_operator(clients) -> None:  # type: ignore[no-untyped-def]
    client = clients["analyst"]
    page = client.get("/reviews?community=book-club&period=2026-10").text
    assert "2026-10" in page
    markdown = client.get("/reviews/download.md?community=book-club&period=2026-10")
    assert markdown.headers["content-disposition"].endswith('2026-10.md"')
    assert markdown.text.startswith("#")
    xlsx = client.get("/reviews/download.xlsx?community=book-club&period=2026-10")
    assert xlsx.content[:2] == b"PK"
    assert clients["viewer"].get("/reviews").status_code == 403
    assert clients["scoped"].get("/reviews?community=book-club").status_code == 403


def test_dashboard_channels_table(clients) -> None:  # type: ignore[no-untyped-def]
    page = clients["viewer"].get("/?community=book-club&from=2026-10-01&to=2026-11-01&lang=en")
    row = re.search(r"<tr><td>公众号</td>(.*?)</tr>", page.text, re.S)
    assert row, page.text
    # One visit (v1); two joins by the channel (alice, the hostile one); the per-channel
    # traffic_conversion is channel_joins / visits (docs/metrics.md) = 2 / 1.
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    assert cells == ["1", "2", "200.0%"]
