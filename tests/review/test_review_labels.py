"""The review shows the registry's labels and formats values by the registry's kind."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shequn.domain.metrics import FIGURES
from shequn.reports.tables import number_format
from shequn.review.i18n import fmt_gap, fmt_value, metric_label


def test_labels_are_the_registry_s_in_both_languages() -> None:
    for figure in FIGURES:
        assert metric_label("zh_CN", figure.name) == figure.label
        assert metric_label("en", figure.name) == figure.english
    # Once copied by the review and then different: the registry's text wins.
    assert metric_label("zh_CN", "members_during") == "期间成员数"
    assert metric_label("en", "messages_per_active") == "messages per active"
    assert metric_label("en", "not_a_metric") == "not_a_metric"


@pytest.mark.parametrize(
    ("metric", "value", "shown", "excel"),
    [
        ("join_cohort_conversion", 0.25, "25.0%", "0.0%"),  # was missing from the ratios
        ("replication_success_rate", 0.5, "50.0%", "0.0%"),
        ("k_factor", 1.5, "1.50", "0.00"),
        ("aov", Decimal("12.5"), "12.50", "#,##0.00"),
        ("dau", 1234, "1,234", "#,##0"),
        ("daily_active_rate", 2 / 3, "66.7%", "0.0%"),
    ],
)
def test_values_read_by_kind(metric: str, value: float, shown: str, excel: str) -> None:
    assert (fmt_value(metric, value), number_format(metric)) == (shown, excel)


def test_gaps_of_ratios_are_percentage_points() -> None:
    assert fmt_gap("en", "join_cohort_conversion", -0.05) == "5.0 pp"
    assert fmt_gap("zh_CN", "gmv", 10) == "10.00"
