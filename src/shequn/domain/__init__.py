"""Pure domain: events, members, goals. Imports no IO."""
