"""Member analytics: what campaigns added, and (in their own modules) member scores."""

from crm.insights.campaign_lift import CampaignLift, campaign_lift
from crm.insights.lift import TooFewMembers

__all__ = ["CampaignLift", "TooFewMembers", "campaign_lift"]
