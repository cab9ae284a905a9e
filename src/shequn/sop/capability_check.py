"""Refusing a playbook step that its community's live platform cannot carry out.

A community bound to a live platform (`platform = "telegram"` with a `[platforms.NAME]`
table) has its messages delivered by that platform's adapter; a step of a kind whose
`needs` the adapter does not declare in its `capabilities` would only fail at run time,
so `sop validate` names it with the file, line and fix instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shequn.config import Community, Settings
from shequn.errors import InputError
from shequn.platforms import registry
from shequn.sop import kinds
from shequn.sop.model import Playbook
from shequn.yamlio import line_of

Lookup = Callable[[str], frozenset[str] | None]


def check_capabilities(
    pb: Playbook,
    path: str,
    source: str,
    settings: Settings,
    communities: Sequence[Community],
    capabilities: Lookup = registry.capabilities,
) -> list[InputError]:
    """A problem per step whose kind one of `communities`' live platforms cannot do.

    Args:
        communities: the communities the playbook applies to.
        capabilities: what a platform's adapter can do, by platform name.
    """
    live = {c.key: c.platform for c in communities if c.platform in settings.platforms}
    able = {platform: capabilities(platform) for platform in set(live.values())}
    problems = []
    for i, step in enumerate(pb.steps):
        needs = kinds.get(step.action.type).needs
        for community, platform in sorted(live.items()):
            can = able[platform]
            if needs is None or can is None or needs in can:
                continue
            problems.append(
                InputError(
                    f"community {community!r} is on {platform}, whose adapter cannot {needs}",
                    path=path,
                    line=line_of(source, ("steps", i, "action", "type")),
                    field=f"steps.{i}.action.type",
                    hint="use a kind it can do (it can: "
                    f"{', '.join(sorted(can)) or 'nothing'}), or create_task for an operator",
                )
            )
            break
    return problems
