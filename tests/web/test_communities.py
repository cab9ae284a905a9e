"""Editing a community in the console: comments and unknown keys kept, invalid refused."""

from __future__ import annotations

from tests.web.conftest import csrf_of, sign_in


def test_edit_keeps_comments_and_changes_the_review(fresh) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    path = ws.root / "shequn.toml"
    path.write_text(path.read_text() + "\n# a comment the console must keep\n")
    before = path.read_text()
    client = sign_in(app, "owner")
    token = csrf_of(client, "/communities")
    page = client.get("/communities").text
    assert 'name="target:short_term_goals:1"' in page
    answer = client.post(
        "/communities/my-community",
        data={
            "csrf": token,
            "positioning": "读书会：每周共读一本书",
            "target:short_term_goals:1": "3",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    after = path.read_text()
    assert "# a comment the console must keep" in after
    assert 'positioning = "读书会：每周共读一本书"' in after
    assert len(after.splitlines()) == len(before.splitlines())
    assert ws.settings.community("my-community").positioning == "读书会：每周共读一本书"


def test_an_invalid_edit_is_refused_and_nothing_is_written(fresh) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    path = ws.root / "shequn.toml"
    before = path.read_text()
    client = sign_in(app, "owner")
    token = csrf_of(client, "/communities")
    answer = client.post(
        "/communities/my-community", data={"csrf": token, "target:long_term_goals:0": "many"}
    )
    assert answer.status_code == 400 and "long_term_goals[0].target" in answer.text
    answer = client.post("/communities/nowhere", data={"csrf": token, "name": "x"})
    assert answer.status_code == 400 and "no community" in answer.text
    assert path.read_text() == before


def test_only_owners_edit(fresh) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(fresh[1], "operator")
    token = csrf_of(client, "/communities")
    assert "disabled" in client.get("/communities").text
    assert client.post("/communities/my-community", data={"csrf": token}).status_code == 403
