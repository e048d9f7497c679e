"""What a contract's budgets hold and have used: :func:`remaining` (total - delivered, always
computed, never taken from PACE) and :func:`allocation_total` (plan-managed budgets only).

As in the ledger, an active delivered service draws on the *first* budget of its category and
management type.
"""

from __future__ import annotations

from ..models import CategoryBudget, Contract, DeliveredService
from ..money import Money

__all__ = ["allocation_total", "delivered_total", "excluded_from_allocation", "remaining"]


def _active(contract: Contract) -> list[DeliveredService]:
    return [d for d in contract.delivered if d.status == "active"]


def excluded_from_allocation(budget: CategoryBudget) -> bool:
    """Self- and agency-managed budgets are excluded from the contract's allocation totals (a plan
    manager does not pay them); they are kept and shown.

    Examples:
        >>> b = CategoryBudget.model_validate({"category": "01", "management": "self",
        ...                                    "total": "10.00"})
        >>> excluded_from_allocation(b)
        True
    """
    return budget.management != "plan"


def allocation_total(contract: Contract) -> Money:
    """The contract's allocation total: the totals of its plan-managed budgets.

    Examples:
        >>> c = Contract.model_validate({"id": "C", "start": "2025-07-01",
        ...     "end_inclusive": "2026-06-30", "budgets": [
        ...       {"category": "01", "management": "plan", "total": "100.00"},
        ...       {"category": "07", "management": "agency", "total": "50.00"}]})
        >>> str(allocation_total(c))
        '100.00'
    """
    return Money(sum(b.total.cents for b in contract.budgets if not excluded_from_allocation(b)))


def _owner_ref(contract: Contract, category: str, management: str) -> str | None:
    b = contract.budget(category, management)
    return b.ref if b is not None else None


def _delivered_of(
    contract: Contract, category: str, management: str, ref: str | None
) -> list[DeliveredService]:
    """Active delivered services drawing on the budget of this key. As in the ledger, they belong
    to the *first* budget of their category and management type (``ref`` None: no budget yet)."""
    if _owner_ref(contract, category, management) != ref:
        return []
    return [d for d in _active(contract) if d.category == category and d.management == management]


def delivered_total(contract: Contract, budget: CategoryBudget) -> Money:
    """What the contract's active delivered services (adjustments included) used of a budget."""
    ds = _delivered_of(contract, budget.category, budget.management, budget.ref)
    return Money(sum(d.amount.cents for d in ds))


def remaining(contract: Contract, budget: CategoryBudget) -> Money:
    """A budget's remaining: its total minus what is delivered against it; always computed,
    never taken from PACE (may be negative).

    Examples:
        >>> c = Contract.model_validate({"id": "C", "start": "2025-07-01",
        ...     "end_inclusive": "2026-06-30", "budgets": [
        ...       {"category": "01", "management": "plan", "total": "100.00"}],
        ...     "delivered": [{"id": "D", "category": "01", "management": "plan",
        ...       "from": "2025-07-01", "to": "2025-07-01", "amount": "30.50"}]})
        >>> str(remaining(c, c.budgets[0]))
        '69.50'
    """
    return budget.total - delivered_total(contract, budget)
