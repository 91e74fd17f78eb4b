"""Campaign budgets held in the ledger (``run(..., budget=5000, campaign="spring")``): every run that names a
campaign, in any process sharing the ledger, spends from one budget.

Each row's estimate is reserved in the same transaction as its claim (``campaign_rows``), before its create
leaves; a row that does not fit is not claimed at all (it ends ``skipped``, saying the campaign's figures). What a
campaign has used is read from its rows' latest attempts, so charges replace reservations as they come: a job
that reported its credits counts them, one refused or skipped counts nothing, any other (sent, running, lost)
counts its reservation. Charged plus reserved never exceeds the budget: writes to the ledger are serialized.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

__all__ = ["CAMPAIGN_TABLES", "Campaigns", "Spent", "over_budget"]

CAMPAIGN_TABLES = """
CREATE TABLE IF NOT EXISTS campaigns (
    name TEXT PRIMARY KEY,
    budget REAL NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_rows (
    campaign TEXT NOT NULL,
    key TEXT NOT NULL,
    reserved REAL NOT NULL,
    reserved_at REAL NOT NULL,
    PRIMARY KEY (campaign, key)
)
"""

# What one of a campaign's rows counts, from its latest attempt: its credits once the job reported them, nothing
# once it was refused or never sent, else what was reserved for it.
_SPENT = """
SELECT
  COALESCE(SUM(CASE WHEN s.status IN ('completed', 'failed') AND s.credits IS NOT NULL THEN s.credits END), 0),
  COALESCE(SUM(CASE WHEN s.status IN ('rejected', 'skipped') THEN 0
                    WHEN s.status IN ('completed', 'failed') AND s.credits IS NOT NULL THEN 0
                    ELSE r.reserved END), 0),
  COUNT(*)
FROM campaign_rows r
LEFT JOIN submissions s ON s.key = r.key AND s.attempt = (SELECT MAX(attempt) FROM submissions WHERE key = r.key)
WHERE r.campaign = ?
"""


class Spent(NamedTuple):
    """A campaign's figures: its budget, what its finished jobs were charged, what its other rows hold."""

    budget: float
    charged: float
    reserved: float
    rows: int

    @property
    def left(self) -> float:
        return self.budget - self.charged - self.reserved

    def refusal(self, name: str, needs: float | None) -> str:
        need = "has no price, so it cannot be reserved" if needs is None else f"needs {needs:g}"
        return (f"not sent: campaign {name!r} has {max(self.left, 0):g} of its {self.budget:g} credits left "
                f"({self.charged:g} charged, {self.reserved:g} reserved); this row {need}")


def spent(db: sqlite3.Connection, name: str) -> Spent | None:
    found = db.execute("SELECT budget FROM campaigns WHERE name = ?", (name,)).fetchone()
    if found is None:
        return None
    charged, reserved, rows = db.execute(_SPENT, (name,)).fetchone()
    return Spent(float(found[0]), float(charged), float(reserved), int(rows))


def over_budget(db: sqlite3.Connection, name: str, key: str, needs: float | None,
                known: dict[str, Spent]) -> str | None:
    """Reserve ``needs`` for ``key`` in campaign ``name`` (in the claim's transaction), or say why it does not
    fit. ``known``: the campaigns' figures read earlier in this transaction (kept up to date here)."""
    figures = known.get(name) or spent(db, name)
    if figures is None:
        return f"not sent: there is no campaign {name!r} (a run that names it with budget= makes it)"
    held = db.execute("SELECT reserved FROM campaign_rows WHERE campaign = ? AND key = ?", (name, key)).fetchone()
    already = float(held[0]) if held else 0.0  # a row sent again: its earlier reservation is replaced
    if needs is None or figures.left + already < needs - 1e-9:
        known[name] = figures
        return figures.refusal(name, needs)
    db.execute("INSERT INTO campaign_rows (campaign, key, reserved, reserved_at) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (campaign, key) DO UPDATE SET reserved = excluded.reserved, "
               "reserved_at = excluded.reserved_at", (name, key, needs, time.time()))
    known[name] = figures._replace(reserved=figures.reserved + needs - already, rows=figures.rows + (not held))
    return None


class Campaigns:
    """The ledger's campaign budgets (mixed into ``Ledger``, whose connection and writer they use)."""

    _rows: Callable[..., Iterator[tuple[Any, ...]]]
    _submit: Callable[[Callable[[sqlite3.Connection], Any]], Any]

    def set_budget(self, name: str, budget: float) -> Any:
        """Make campaign ``name`` with ``budget`` credits, or set its budget (the latest run that says one wins)."""
        now = time.time()
        return self._submit(lambda db: db.execute(
            "INSERT INTO campaigns (name, budget, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET budget = excluded.budget, updated_at = excluded.updated_at",
            (name, float(budget), now, now)))

    def campaign(self, name: str) -> Spent | None:
        """One campaign's figures, or None when no run named it with a budget."""
        found = list(self._rows("SELECT budget FROM campaigns WHERE name = ?", (name,)))
        if not found:
            return None
        [(charged, reserved, rows)] = list(self._rows(_SPENT, (name,)))
        return Spent(float(found[0][0]), float(charged), float(reserved), int(rows))

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign: name, budget, charged, reserved, left, rows, created and updated (epoch seconds)."""
        names: Sequence[tuple[Any, ...]] = list(self._rows(
            "SELECT name, created_at, updated_at FROM campaigns ORDER BY created_at"))
        out = []
        for name, created, updated in names:
            figures = self.campaign(name)
            assert figures is not None
            out.append({"campaign": name, "budget": figures.budget, "charged": figures.charged,
                        "reserved": figures.reserved, "left": figures.left, "rows": figures.rows,
                        "created_at": created, "updated_at": updated})
        return out
