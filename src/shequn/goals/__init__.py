"""Goals: what the operator wrote, gathered and checked, then normalized and judged.

- `shequn.config.Goal`: one goal as written (a setting; validated on its own).
- `gather`: every goal of a workspace (shequn.toml and `goals/*.yaml`), checked
  together: ids, `serves`, scopes; errors name the file, line or field.
- `evaluate`: `GoalSpec`, one per community a goal applies to, and `evaluate_goal`,
  the pure judgement of a measured value (used by the review).

Periods and horizons are read by `shequn.periods`, YAML by `shequn.yamlio`.
"""
