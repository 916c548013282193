"""The campaign runtime: ``Campaign`` and the records its sweeps and overview return."""

from campaignflow._public import publish
from campaignflow.campaign._audit_ops import RETENTION_DAYS
from campaignflow.campaign._campaign import Campaign
from campaignflow.campaign._outcomes import AdvanceOutcome, Outcomes, SweepSummary
from campaignflow.campaign._overview import Progress

__all__ = ["RETENTION_DAYS", "AdvanceOutcome", "Campaign", "Outcomes", "Progress", "SweepSummary"]

publish(__name__, globals(), [n for n in __all__ if n in globals()])
