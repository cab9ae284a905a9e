"""Matrix: the reference live adapter (matrix-nio's transport; tested against Synapse).

`events` turns /sync's events into canonical events, `power` reads what the bot may do
in a room, `client` keeps the session and maps errors, `adapter` is the `Adapter`.
"""
