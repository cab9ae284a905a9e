"""Recommendations: content items and activities a member is likely to engage with.

`model` holds the item-item recommender and the baselines (matrices in, top items
out), `data` turns a log of plain frames into its matrices as of an instant,
`evaluate` judges it on a time split, `workspace` reads a workspace and answers for
its members (docs/members.md, "Recommendations").
"""
