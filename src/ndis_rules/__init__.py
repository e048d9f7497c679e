"""ndis-rules: an embeddable, explainable rules engine for NDIS plan management.

The curated public API; see ``docs/`` for concepts, rule codes and the scenario format.
"""

from .codes import CODES, Code, all_codes
from .errors import InputError, NdisRulesError, RuleConflictError, RuleGapError
from .models import (
    CategoryBudget,
    ClaimLine,
    Contract,
    DeliveredService,
    FundingComponent,
    FundingPeriod,
    Invoice,
    ProviderShare,
    ServiceProviderCategoryBudget,
    Settings,
    SupportItemBudget,
)
from .money import Money
from .outcomes import Draw, Finding, InvoiceDecision, LineDecision, LinePart, TraceStep
from .periods import DateRange, period_status
from .rules import (
    PreparedContract,
    cancel_invoice,
    change_provider,
    clone_invoice,
    evaluate_batch,
    evaluate_invoice,
    prepare,
    record_invoice,
)

__version__ = "0.1.0"

__all__ = [
    "CODES",
    "CategoryBudget",
    "ClaimLine",
    "Code",
    "Contract",
    "DateRange",
    "DeliveredService",
    "Draw",
    "Finding",
    "FundingComponent",
    "FundingPeriod",
    "InputError",
    "Invoice",
    "InvoiceDecision",
    "LineDecision",
    "LinePart",
    "Money",
    "NdisRulesError",
    "PreparedContract",
    "ProviderShare",
    "RuleConflictError",
    "RuleGapError",
    "ServiceProviderCategoryBudget",
    "Settings",
    "SupportItemBudget",
    "TraceStep",
    "__version__",
    "all_codes",
    "cancel_invoice",
    "change_provider",
    "clone_invoice",
    "evaluate_batch",
    "evaluate_invoice",
    "period_status",
    "prepare",
    "record_invoice",
]
