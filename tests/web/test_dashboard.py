"""Dashboard alerts: the metric crossings of the period, judged as the daily watch does."""

from __future__ import annotations

from pathlib import Path

from shequn.clock import FrozenClock
from shequn.web import create_app
from shequn.web.dashboard import crossings
from tests.sop.helpers import write_playbook
from tests.web.conftest import NOW, make_workspace, sign_in

CHATTY = """
    name: chatty-day
    applies_to:
      communities: [book-club]
    trigger:
      type: metric_threshold
      metric: messages
      above: 0
    steps:
      - id: look
        at: "+0m"
        action:
          type: create_task
          title: "look at the chat"
          text: "see what they talk about"
          due: "+1d"
        owner: owner
        emergency: {do: "the lead looks", alert: owner}
"""


def test_crossings_of_a_declared_threshold(tmp_path: Path) -> None:
    from datetime import date

    ws = make_workspace(tmp_path / "ws", "viewer")
    try:
        write_playbook(ws, "chatty", CHATTY)
        clock = FrozenClock(NOW)
        found = crossings(ws, "book-club", date(2026, 10, 1), date(2026, 11, 1), clock)
        # Messages on 3, 4, 5 and 6 October: one run of the playbook's threshold, crossed on
        # its first day. The default lifecycle plan watches "active_rate below 0.1 for 14
        # days": nobody was active after 6 October, so 7-20 October are its 14 days.
        assert [(c["day"], c["threshold"], c["value"], c["bound"]) for c in found] == [
            ("2026-10-20", "active_rate<0.1x14d", 0.0, 0.1),
            ("2026-10-03", "messages>0x1d", 1, 0.0),
        ]
        client = sign_in(create_app(ws, clock), "viewer")
        query = "community=book-club&from=2026-10-01&to=2026-11-01"
        page = client.get(f"/?{query}").text
        assert f'hx-get="/dashboard/crossings?{query.replace("&", "&amp;")}"' in page
        alert = client.get(f"/dashboard/crossings?{query}&lang=en").text
        assert "2026-10-03" in alert and "messages of the day" in alert and "above 0" in alert
        # A period before the run: no crossing of this threshold.
        early = crossings(ws, "book-club", date(2026, 10, 1), date(2026, 10, 3), clock)
        assert [c for c in early if c["threshold"] == "messages>0x1d"] == []
    finally:
        ws.close()
