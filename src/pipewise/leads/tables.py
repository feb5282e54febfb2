"""Every table of lead capture, import, duplicates, scoring and routing, for ``db/models.py``."""

from pipewise.assignment.models import AssignmentRule, LeadAssignment, RoundRobinSlot, RoutingPolicy
from pipewise.leads.models import DuplicateCandidate, FormSubmission, Lead, LeadForm, LeadImport, LeadImportRow
from pipewise.scoring.models import EngagementEvent, ScoreHistory, ScoringConfig, ScoringModel, ScoringTraining

__all__ = [
    "AssignmentRule",
    "DuplicateCandidate",
    "EngagementEvent",
    "FormSubmission",
    "Lead",
    "LeadAssignment",
    "LeadForm",
    "LeadImport",
    "LeadImportRow",
    "RoundRobinSlot",
    "RoutingPolicy",
    "ScoreHistory",
    "ScoringConfig",
    "ScoringModel",
    "ScoringTraining",
]
