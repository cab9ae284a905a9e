"""Profiles as of an instant before the kept figures' (`shequn members list --at` a
past day) are those of a computation at that instant, and leave the kept figures, churn
model and profiles where they are: the next refresh still reads only what entered."""

from __future__ import annotations

from polars.testing import assert_frame_equal

from shequn.analytics.copy import append, memory_copy
from shequn.members import refit, stored
from shequn.members.profiles import assemble
from tests.analytics.helpers import SHANGHAI, to_arrow
from tests.members.test_kept_later import _settings
from tests.members.test_stored import BEFORE, _at, _figures_cold_model_kept, _log, record

KEPT_AT, PAST, LATER = "2026-06-11 09:00", "2026-05-20 09:00", "2026-06-11 12:00"


def _kept_state(con) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    marks = tuple(stored.mark(con, name) for name in ("now", "back_14"))
    model = con.execute(f"SELECT fitted_now, params FROM {refit.TABLE}").fetchall()
    return (*marks, model)


def test_a_past_instant_is_computed_apart_from_the_kept_figures() -> None:
    events = _log(8, 2000, keys=200).events
    settings = _settings()
    con = memory_copy(to_arrow(events[:1970]), SHANGHAI)
    record(con, _at(KEPT_AT), *BEFORE)
    assemble(con, settings, _at(KEPT_AT))
    kept = _kept_state(con)
    assert kept[0] is not None and kept[0].now == _at(KEPT_AT).now
    past = assemble(con, settings, _at(PAST))
    # The same as a first computation at that instant on a copy of the same log.
    fresh = memory_copy(to_arrow(events[:1970]), SHANGHAI)
    record(fresh, _at(KEPT_AT), *BEFORE)
    assert_frame_equal(past, assemble(fresh, settings, _at(PAST)))
    assert _kept_state(con) == kept  # the kept sets and model are those of KEPT_AT
    assert stored.mark(con, stored.PAST + "now").now == _at(PAST).now
    # Asked again, the past sets are brought up from where they are, to the same answer.
    assert_frame_equal(assemble(con, settings, _at(PAST)), past)
    # The next refresh after new events decides again only the persons they touch.
    append(con, to_arrow(events[1970:]), SHANGHAI)
    again = assemble(con, settings, _at(LATER))
    [(changed,)] = con.execute("SELECT COUNT(*) FROM member_profiles_changed").fetchall()
    assert 0 < changed < again.height
    assert_frame_equal(again, _figures_cold_model_kept(con, settings, LATER))
