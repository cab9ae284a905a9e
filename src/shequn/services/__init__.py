"""Use cases that change state: the only writers. Each runs in one transaction,
writes an audit record, and does any side effect after commit."""
