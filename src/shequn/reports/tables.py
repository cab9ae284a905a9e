"""The review as five tables of cells (text to show, number to store), one per section.

Every renderer uses these, so the terminal, Markdown, HTML and Excel reports agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shequn.goals.evaluate import GoalResult
from shequn.review.build import Review, as_float, attainment
from shequn.review.drivers import describe
from shequn.review.evaluation import milestones
from shequn.review.explain import diagnosis_text, ran_text, warning_text
from shequn.review.i18n import fmt_gap, fmt_share, fmt_value, metric_label, t, unit_of
from shequn.review.sections import Section
from shequn.review.texts import say, stage_name


@dataclass(frozen=True)
class Cell:
    """A shown text and, for spreadsheets, the raw value and its number format."""

    text: str
    value: Any = None
    number_format: str | None = None


@dataclass
class Table:
    """One section: a title, column headers, rows of cells and an optional sentence."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""


_NUMBER_FORMATS = {"percent": "0.0%", "money": "#,##0.00", "factor": "0.00"}


def number_format(metric: str) -> str:
    """The Excel number format for a metric's values (by the registry's kind)."""
    return _NUMBER_FORMATS.get(unit_of(metric), "#,##0")


def text(value: str) -> Cell:
    return Cell(value, value)


def metric_cell(metric: str, value: Any) -> Cell:
    """A metric value: formatted text, float (or int) value, the metric's number format."""
    raw: Any = as_float(value)
    if raw is not None and isinstance(value, int) and not isinstance(value, bool):
        raw = value
    if isinstance(value, Decimal):
        raw = float(value)
    return Cell(fmt_value(metric, value), raw, number_format(metric))


def _signed_gap(lang: str, metric: str, gap: float | None) -> str:
    if gap is None:
        return "—"
    return ("+" if gap >= 0 else "−") + fmt_gap(lang, metric, gap)


def _signed_share(change: float | None) -> str:
    if change is None:
        return "—"
    if round(abs(change) * 1000) == 0:
        return "0%"
    return ("+" if change > 0 else "−") + fmt_share(change)


def _goal_row(review: Review, r: GoalResult, unit: bool = False) -> list[Cell]:
    lang, g = review.lang, r.goal
    metric = g.metric or ""
    window = r.window.label if r.window else "—"
    goal_text = f"↳ {g.text}" if unit else g.text
    if g.serves and not unit:
        served = [x.goal.text for x in review.goals if x.goal.id in g.serves]
        if served:
            goal_text += f" ({t(lang, 'serves', goal='; '.join(served))})"
    trend = t(lang, f"trend.{r.trend}") if r.trend else t(lang, "trend.none")
    actual, before = metric_cell(metric, r.actual), metric_cell(metric, r.previous)
    if r.units and r.met_units is not None:
        kind = f"units.{g.period}"
        actual = Cell(t(lang, kind, met=r.met_units, total=len(r.units)), r.met_units, "0")
        if r.previous_met is not None:
            met, total = r.previous_met
            before = Cell(t(lang, kind, met=met, total=total), met, "0")
    progress = attainment(r)
    return [
        text(review.names.get(g.community, g.community)),
        text(t(lang, f"level.{g.level}")),
        text(goal_text),
        text(metric_label(lang, metric) if metric else "—"),
        text(window),
        metric_cell(metric, g.target),
        actual,
        Cell(_signed_gap(lang, metric, r.gap), r.gap, number_format(metric)),
        text(t(lang, f"status.{r.status}")),
        before,
        text(trend),
        Cell(fmt_share(progress) if progress is not None else "—", progress, "0%"),
        _milestones(review, r) if not unit else text(""),
    ]


def _milestones(review: Review, r: GoalResult) -> Cell:
    if r.goal.level != "long":
        return text("")
    met, total = milestones(r, review.goals)
    if not total:
        return text("—")
    return Cell(t(review.lang, "milestones", met=met, total=total), met, "0")


def goals_table(review: Review) -> Table:
    """Goals vs actuals: long-term goals with their milestones, recurring goals by unit."""
    lang = review.lang
    cols = ["community", "level", "goal", "metric", "window", "target", "actual", "gap"]
    cols += ["status", "previous", "trend", "progress", "milestones"]
    table = Table("goals", t(lang, "section.goals"), [t(lang, f"col.{c}") for c in cols])
    for r in review.goals:
        table.rows.append(_goal_row(review, r))
        table.rows += [_goal_row(review, u, unit=True) for u in r.units]
    if not review.goals:
        table.note = t(lang, "no_goals")
    return table


def funnel_table(review: Review) -> Table:
    lang = review.lang
    cols = ["stage", "metric", "actual", "target", "shortfall", "previous", "change"]
    table = Table("funnel", t(lang, "section.funnel"), [t(lang, f"col.{c}") for c in cols])
    table.note = diagnosis_text(review)
    for s in review.funnel.stages:
        change = s.change
        table.rows.append(
            [
                text(t(lang, f"stage.{s.key}")),
                text(metric_label(lang, s.metric)),
                metric_cell(s.metric, s.actual),
                metric_cell(s.metric, s.target),
                Cell(
                    fmt_share(s.shortfall) if s.shortfall and s.shortfall > 0 else "—",
                    s.shortfall,
                    "0%",
                ),
                metric_cell(s.metric, s.previous),
                Cell(_signed_share(change), change, "0%"),
            ]
        )
    return table


def quality_table(review: Review) -> Table:
    """The data-quality warnings of the scope, one per row."""
    lang = review.lang
    table = Table("quality", say(lang, "section.quality"), [say(lang, "col.warning")])
    for warning in review.warnings:
        table.rows.append([text(warning_text(lang, review.scope_name, warning))])
    if not review.warnings:
        table.note = say(lang, "quality.none")
    return table


def checks_table(review: Review) -> Table:
    """Each missed goal's stages against their own targets."""
    lang = review.lang
    cols = ["goal", "stage", "metric", "actual", "target", "source", "base", "verdict"]
    table = Table("checks", say(lang, "section.checks"), [say(lang, f"col.{c}") for c in cols])
    for found in review.diagnosis.missed:
        goal = found.result.goal
        where = review.names.get(goal.community, goal.community)
        label = goal.text if goal.community == review.scope else f"{where} · {goal.text}"
        for c in found.checks:
            mark = " ←" if c is found.failed else ""
            table.rows.append(
                [
                    text(label),
                    text(stage_name(lang, c.stage) + mark),
                    text(metric_label(lang, c.metric)),
                    metric_cell(c.metric, c.actual),
                    metric_cell(c.metric, c.target),
                    text(say(lang, f"source.{c.source}")),
                    Cell("—" if c.base is None else f"{c.base:,}", c.base, "#,##0"),
                    text(say(lang, f"verdict.{c.verdict}")),
                ]
            )
    return table


def drivers_table(review: Review) -> Table:
    lang = review.lang
    cols = [t(lang, f"col.{c}") for c in ("driver", "figure", "reference")]
    table = Table("drivers", t(lang, "section.drivers"), cols)
    for d in review.drivers:
        f = d.figures
        if d.kind == "channel_buyers":
            nums = [
                Cell(fmt_share(f["join_share"]), f["join_share"], "0%"),
                Cell(fmt_share(f["buyer_share"]), f["buyer_share"], "0%"),
            ]
        elif d.kind == "channel_traffic":
            nums = [
                metric_cell("traffic_conversion", f["conversion"]),
                metric_cell("traffic_conversion", f["overall"]),
            ]
        elif d.kind == "cohort":
            nums = [
                Cell(fmt_share(f["value"]), f["value"], "0%"),
                Cell(fmt_share(f["overall"]), f["overall"], "0%"),
            ]
        else:
            nums = [metric_cell(f["metric"], f["value"]), metric_cell(f["metric"], f["overall"])]
        table.rows.append([text(describe(d, lang)), *nums])
    if not review.drivers:
        table.note = t(lang, "drivers.none")
    return table


def actions_table(review: Review) -> Table:
    lang = review.lang
    cols = [t(lang, f"col.{c}") for c in ("stage", "action", "playbook")]
    table = Table("actions", t(lang, "section.actions"), [*cols, say(lang, "col.ran")])
    for a in review.actions:
        table.rows.append(
            [
                text(t(lang, f"stage.{a.stage}")),
                text(
                    f"{a.title[lang]}：{a.detail[lang]}"
                    if lang == "zh_CN"
                    else f"{a.title[lang]}: {a.detail[lang]}"
                ),
                text(a.playbook),
                text(ran_text(review, a.playbook, a.stage)),
            ]
        )
    if not review.actions:
        table.note = t(lang, "actions.none")
    return table


def replication_table(review: Review) -> Table:
    lang = review.lang
    cols = [t(lang, f"col.{c}") for c in ("template", "communities", "reached", "met", "rate")]
    table = Table("replication", t(lang, "section.replication"), cols)
    table.note = t(lang, "replication.rule")
    for r in review.replication:
        table.rows.append(
            [
                text(r.template),
                Cell(f"{r.communities:,}", r.communities, "#,##0"),
                Cell(f"{r.reached:,}", r.reached, "#,##0"),
                Cell(f"{r.met:,}", r.met, "#,##0"),
                metric_cell("replication_success_rate", r.rate),
            ]
        )
    if not any(r.reached for r in review.replication):
        table.note += " " + t(lang, "replication.none")
    return table


def bot_table(review: Review) -> Table:
    """What the group bot did in the period (docs/bot.md)."""
    from shequn.bot.report import ROWS, shown

    lang = review.lang
    columns = ["机器人", "数值"] if lang == "zh_CN" else ["bot", "value"]
    table = Table("bot", "机器人 (社群机器人)" if lang == "zh_CN" else "Group bot", columns)
    for row in ROWS:
        value = review.bot.get(row.name)
        label = row.label if lang == "zh_CN" else row.english
        share = isinstance(value, float)
        table.rows.append([text(label), Cell(shown(value), value, "0.0%" if share else "#,##0")])
    return table


def sections(review: Review) -> list[Table]:
    """The sections, in report order: data quality first, the diagnosis with the funnel;
    the bot's only when it did something."""
    found = [
        quality_table(review),
        goals_table(review),
        funnel_table(review),
        checks_table(review),
        drivers_table(review),
        actions_table(review),
        replication_table(review),
        _member_flow(review),
        *(extra_table(s) for s in review.extra),
    ]
    return [*found, bot_table(review)] if review.bot else found


def extra_table(section: Section) -> Table:
    """A feature's own section (review.sections) as a table of text cells."""
    rows = [[text(value) for value in row] for row in section.rows]
    return Table(section.key, section.title, list(section.columns), rows, section.note)


def _member_flow(review: Review) -> Table:
    from shequn.reports.member_flow import member_flow_table  # it builds on this module

    return member_flow_table(review)


def heading(review: Review) -> tuple[str, str]:
    """The report title and the 'compared with' line."""
    lang = review.lang
    title = t(lang, "title", scope=review.scope_name, period=review.period.label)
    return title, t(lang, "previous_period", period=review.previous.label)
