"""The SOP engine: playbooks, triggers, the tick, the outbox, dispatch, operator tasks."""
