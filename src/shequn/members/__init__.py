"""Understanding members: profiles, tiers, lifecycle states, churn risk, RFM segments,
opinion leaders and seed members (docs/members.md).

Everything reads the analytics copy (shequn.analytics.copy) and the SOP state events
of the store; changes are recorded only by shequn.services.members.
"""
