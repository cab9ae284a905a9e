"""The review (复盘): goals against actuals, funnel diagnosis, drivers, actions, replication.

Pure functions over metric dicts live in `build`, `goals`, `funnel`, `drivers` and
`replication`; `run.review_workspace` is the one function that reads a workspace.
"""
