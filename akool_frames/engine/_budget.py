"""What a run may spend: ``budget=`` alone is checked before anything is sent (the estimate of what would be
sent must fit); with ``campaign=``, the budget is the campaign's, held in the ledger, and each create reserves its
row's estimate with its claim (``ledger._campaigns``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .._errors import BudgetExceeded, ConfigError
from ._prepare import Outcome
from ._run import Item

__all__ = ["budget_gate", "open_campaign"]


async def open_campaign(client: Any, campaign: str, budget: float | None) -> None:
    """Set the campaign's budget when given (the latest said wins); without one, the campaign must exist."""
    if not isinstance(campaign, str) or not campaign.strip():
        msg = f"campaign is {campaign!r}; it takes a name, e.g. campaign='spring'."
        raise ConfigError(msg)
    if budget is not None:
        await client.ledger.set_budget(campaign, budget)
    elif client.ledger.campaign(campaign) is None:
        msg = (f"There is no campaign {campaign!r} in this ledger yet.\n\nHint: name its budget once, "
               f"run(..., campaign={campaign!r}, budget=5000); later runs may leave budget= out.")
        raise ConfigError(msg)


def budget_gate(budget: float | None, new: list[Item], groups: Mapping[str, list[int]],
                 outcomes: list[Outcome]) -> list[Item]:
    """What would be newly sent must fit ``budget``; rows without a price cannot be promised under it."""
    if budget is None:
        return new
    priced = [item.estimate for item in new if item.estimate is not None]
    if sum(priced) > budget:
        raise BudgetExceeded(sum(priced), budget, unpriced=len(new) - len(priced))
    for item in new:
        if item.estimate is None:
            for i in groups[item.key]:
                outcomes[i] = replace(outcomes[i], status="skipped", error="not sent: no price is known for this "
                                      "row, so budget= cannot cover it")
    return [item for item in new if item.estimate is not None]
