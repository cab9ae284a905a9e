"""The built-in action kinds: one module each, registered through `sop.kinds.register`
like any later kind.

Adding a kind: a module here that defines its model and calls `register(ActionKind(...))`,
and its name in `BUILTIN`. The order of `BUILTIN` is the order the playbook errors list
the kinds in. `sop.kinds` imports this package on first use of the registry, and
`sop.model` builds the union of action models from it, so every kind listed here is a
valid `type:` in a playbook.
"""

from __future__ import annotations

import importlib

BUILTIN = ("messages", "tags", "points", "activities", "webhooks")


def load() -> None:
    """Import (and so register) every built-in kind; importing twice does nothing."""
    for name in BUILTIN:
        importlib.import_module(f"{__name__}.{name}")


load()
