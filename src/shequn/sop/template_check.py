"""Checking a playbook against what exists: template variables and workspace keys.

`sop validate` (and the engine, before it runs a new version) catches what would
otherwise fail at run time: a variable that does not exist (`{{ member.nmae }}`), a
template that fails on every target, or a bound exceeded (sop.render); and, for
`sop validate` and `sop plan`, a community key or template name the workspace does
not know (the playbook would never match anything). Each problem names the file,
the line and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, meta, nodes

from shequn.config import Community, Settings
from shequn.errors import InputError, WorkspaceError
from shequn.sop.capability_check import check_capabilities
from shequn.sop.content import ContentError, Library
from shequn.sop.model import Playbook
from shequn.sop.render import RenderError, environment, render, variables
from shequn.yamlio import line_of

TEMPLATE_FIELDS = ("text", "title", "body")
# What the engine adds to the variables for its own use (sop.tick).
_IMPORTED = "(communities in shequn.toml or imported)"
_TEMPLATE_OF = "(the `template` of a community in shequn.toml)"
_INTERNAL = {"_due_ts": 0, "_playbook": "", "_step": ""}


def _sample(community: Community) -> dict[str, Any]:
    return {**variables("sample:1", "Sample", community), **_INTERNAL}


def _variables_hint() -> str:
    shape = _sample(Community(key="sample"))
    names = [f"{k}.{a}" for k, v in shape.items() if isinstance(v, dict) for a in v]
    return "the variables are " + ", ".join(names)


def templates(pb: Playbook, library: Library) -> Iterator[tuple[int, str, str]]:
    """(step index, field, template text) of every template a playbook renders."""
    for i, step in enumerate(pb.steps):
        for name in TEMPLATE_FIELDS:
            text = getattr(step.action, name, None)
            if isinstance(text, str) and text:
                yield i, name, text
        body = _content_body(library, getattr(step.action, "content", None))
        if body:
            yield i, "content", body


def _content_body(library: Library, name: str | None) -> str | None:
    """A content item's body; None if there is none (a missing one is reported by
    sop.content.check_playbook)."""
    if not name:
        return None
    try:
        return library.get(name).body
    except ContentError:
        return None


@lru_cache(maxsize=1024)
def unknown_names(text: str) -> tuple[str, ...]:
    """Variables and attributes a template uses that the engine never provides (kept
    per text: the engine checks every template of every playbook each tick)."""
    shape = _sample(Community(key="sample"))
    tree = environment().parse(text)
    found = [
        name
        for name in sorted(meta.find_undeclared_variables(tree))
        if name not in shape and name not in environment().globals
    ]
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        attr = node.attr if isinstance(node, nodes.Getattr) else _constant(node.arg)
        base = node.node.name if isinstance(node.node, nodes.Name) else None
        known = shape.get(base) if base is not None else None
        if isinstance(known, dict) and attr is not None and attr not in known:
            found.append(f"{base}.{attr}")
    return tuple(found)


def _constant(arg: nodes.Node) -> str | None:
    return arg.value if isinstance(arg, nodes.Const) and isinstance(arg.value, str) else None


def check_templates(
    pb: Playbook,
    path: str,
    source: str,
    library: Library,
    communities: Sequence[Community] | None = None,
) -> list[InputError]:
    """A problem per template that uses an unknown variable or fails to render.

    Args:
        pb: a valid playbook.
        path: its file; source: its YAML text (for lines).
        library: the content items.
        communities: render a sample for each (an empty list: one generic sample);
            None: only look for unknown variables (the engine's check: a sample
            can fail where real values would not).
    """
    problems = []
    samples = [_sample(c) for c in communities or [Community(key="sample")]]
    if communities is None:
        samples = []
    for i, name, text in templates(pb, library):
        field = f"steps.{i}.action.{name}"
        try:
            unknown = unknown_names(text)
        except TemplateError:
            continue  # a syntax error is reported by the model's own check
        if unknown:
            problems.append(
                InputError(
                    f"unknown template variable {unknown[0]!r}",
                    path=path,
                    line=line_of(source, ("steps", i, "action", name)),
                    field=field,
                    hint=_variables_hint(),
                )
            )
            continue
        try:
            for values in samples:
                render(text, values)
        except RenderError as exc:
            problems.append(
                InputError(
                    f"the template fails for community {values['community']['key']!r}: {exc}",
                    path=path,
                    line=line_of(source, ("steps", i, "action", name)),
                    field=field,
                    hint="fix the template; see the variables and bounds in docs/sop.md",
                )
            )
    return problems


def check_keys(
    pb: Playbook, path: str, source: str, settings: Settings, stored: Sequence[str]
) -> list[InputError]:
    """A problem per community key or template name the workspace does not know.

    Args:
        stored: community keys seen in the event log (imports make communities too).
    """
    known = {c.key for c in settings.communities} | set(stored)
    templates = {c.template for c in settings.communities if c.template}
    problems = []
    for kind, one, names, valid, where in (
        ("communities", "community", pb.applies_to.communities, known | {"*"}, _IMPORTED),
        ("templates", "template", pb.applies_to.templates, templates, _TEMPLATE_OF),
    ):
        for j, name in enumerate(names):
            if name not in valid:
                problems.append(
                    InputError(
                        f"no {one} {name!r} in this workspace: the playbook never applies there",
                        path=path,
                        line=line_of(source, ("applies_to", kind, j)),
                        field=f"applies_to.{kind}.{j}",
                        hint=f"use one of: {', '.join(sorted(valid)[:12]) or 'none yet'} {where}",
                    )
                )
    return problems


def check_workspace(
    pb: Playbook,
    path: str,
    source: str,
    library: Library,
    settings: Settings | None,
    stored: Sequence[str],
) -> list[InputError]:
    """Everything `sop validate` checks beyond the model: templates over samples of
    the playbook's communities, and its community and template keys (in a
    workspace, `settings`; outside one, templates over a generic sample only)."""
    if settings is None:
        return check_templates(pb, path, source, library, [])
    chosen = [
        c
        for c in settings.communities
        if "*" in pb.applies_to.communities
        or c.key in pb.applies_to.communities
        or c.template in pb.applies_to.templates
    ]
    return [
        *check_templates(pb, path, source, library, chosen),
        *check_keys(pb, path, source, settings, stored),
        *check_capabilities(pb, path, source, settings, chosen),
    ]


def known_for(workspace: Path | None) -> tuple[Settings | None, list[str]]:
    """The settings and community keys (settings and store) to validate against;
    outside a workspace none (templates are then checked on a sample, keys not)."""
    from shequn.sop.tick import known_communities
    from shequn.store.engine import read_transaction
    from shequn.workspace import Workspace

    try:
        ws = Workspace.open(workspace)
    except WorkspaceError:
        return None, []
    with read_transaction(ws.engine) as conn:
        return ws.settings, list(known_communities(conn, ws.settings))
