"""Campaign budgets held in the ledger (``run(..., budget=5000, campaign="spring")``): every run that names a
campaign, in any process sharing the ledger, spends from one budget.

Each row's estimate is reserved in the same transaction as its claim (``campaign_rows``), before its create
leaves; a row that does not fit is not claimed at all (it ends ``skipped``, saying the campaign's figures). What a
campaign has used is read from its rows' latest attempts, so charges replace reservations as they come: a job
that reported its credits counts them, one refused or skipped counts nothing, any other (sent, running, lost)
counts its reservation. Charged plus reserved never exceeds the budget: writes to the ledger are serialized.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = ["POSTGRES", "SQLITE", "Campaigns", "Dialect", "Spent", "campaign_tables", "over_budget"]


class Dialect(NamedTuple):
    """How the two stores spell the same SQL: where the tables are, the placeholder, the type of a real number."""

    tables: str
    p: str
    real: str
    key: str  # a row key's type: compared with the submissions' keys

    def sql(self, template: str) -> str:
        return template.format(t=self.tables, p=self.p, real=self.real, key=self.key)


SQLITE = Dialect("", "?", "REAL", "TEXT")
POSTGRES = Dialect("akool_frames.", "%s", "DOUBLE PRECISION", 'TEXT COLLATE "C"')

_TABLES = """
CREATE TABLE IF NOT EXISTS {t}campaigns (
    name TEXT PRIMARY KEY,
    budget {real} NOT NULL,
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS {t}campaign_rows (
    campaign TEXT NOT NULL,
    key {key} NOT NULL,
    reserved {real} NOT NULL,
    reserved_at {real} NOT NULL,
    PRIMARY KEY (campaign, key)
)
"""


def campaign_tables(dialect: Dialect) -> str:
    return dialect.sql(_TABLES)

# What one of a campaign's rows counts, from its latest attempt: its credits once the job reported them, nothing
# once it was refused or never sent, else what was reserved for it.
_SPENT = """
SELECT
  COALESCE(SUM(CASE WHEN s.status IN ('completed', 'failed') AND s.credits IS NOT NULL THEN s.credits END), 0),
  COALESCE(SUM(CASE WHEN s.status IN ('rejected', 'skipped') THEN 0
                    WHEN s.status IN ('completed', 'failed') AND s.credits IS NOT NULL THEN 0
                    ELSE r.reserved END), 0),
  COUNT(*)
FROM {t}campaign_rows r
LEFT JOIN {t}submissions s
  ON s.key = r.key AND s.attempt = (SELECT MAX(attempt) FROM {t}submissions WHERE key = r.key)
WHERE r.campaign = {p}
"""
_BUDGET = "SELECT budget FROM {t}campaigns WHERE name = {p}"
_HELD = "SELECT reserved FROM {t}campaign_rows WHERE campaign = {p} AND key = {p}"
_RESERVE = ("INSERT INTO {t}campaign_rows (campaign, key, reserved, reserved_at) VALUES ({p}, {p}, {p}, {p}) "
            "ON CONFLICT (campaign, key) DO UPDATE SET reserved = excluded.reserved, reserved_at = excluded.reserved_at")
_SET = ("INSERT INTO {t}campaigns (name, budget, created_at, updated_at) VALUES ({p}, {p}, {p}, {p}) "
        "ON CONFLICT (name) DO UPDATE SET budget = excluded.budget, updated_at = excluded.updated_at")


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


def _spent(db: Any, name: str, dialect: Dialect) -> Spent | None:
    found = db.execute(dialect.sql(_BUDGET), (name,)).fetchone()
    if found is None:
        return None
    charged, reserved, rows = db.execute(dialect.sql(_SPENT), (name,)).fetchone()
    return Spent(float(found[0]), float(charged), float(reserved), int(rows))


def over_budget(db: Any, name: str, key: str, needs: float | None, known: dict[str, Spent],
                dialect: Dialect) -> str | None:
    """Reserve ``needs`` for ``key`` in campaign ``name`` (on ``db``, in the claim's transaction, which holds the
    campaign: the SQLite file's write lock, or PostgreSQL's campaign lock), or say why it does not fit.
    ``known``: the campaigns' figures read earlier in this transaction (kept up to date here)."""
    figures = known.get(name) or _spent(db, name, dialect)
    if figures is None:
        return f"not sent: there is no campaign {name!r} (a run that names it with budget= makes it)"
    held = db.execute(dialect.sql(_HELD), (name, key)).fetchone()
    already = float(held[0]) if held else 0.0  # a row sent again: its earlier reservation is replaced
    if needs is None or figures.left + already < needs - 1e-9:
        known[name] = figures
        return figures.refusal(name, needs)
    db.execute(dialect.sql(_RESERVE), (name, key, needs, time.time()))
    known[name] = figures._replace(reserved=figures.reserved + needs - already, rows=figures.rows + (not held))
    return None


class Campaigns:
    """The ledger's campaign budgets (mixed into both ledgers: ``_fetch`` reads, ``_submit`` writes)."""

    dialect: Dialect
    _submit: Callable[..., Any]

    def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def set_budget(self, name: str, budget: float) -> Any:
        """Make campaign ``name`` with ``budget`` credits, or set its budget (the latest run that says one wins)."""
        now, sql = time.time(), self.dialect.sql(_SET)
        return self._submit(lambda db: db.execute(sql, (name, float(budget), now, now)))

    def campaign(self, name: str) -> Spent | None:
        """One campaign's figures, or None when no run named it with a budget."""
        found = self._fetch(self.dialect.sql(_BUDGET), (name,))
        if not found:
            return None
        [(charged, reserved, rows)] = self._fetch(self.dialect.sql(_SPENT), (name,))
        return Spent(float(found[0][0]), float(charged), float(reserved), int(rows))

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign: name, budget, charged, reserved, left, rows, created and updated (epoch seconds)."""
        names: Sequence[tuple[Any, ...]] = self._fetch(self.dialect.sql(
            "SELECT name, created_at, updated_at FROM {t}campaigns ORDER BY created_at"))
        out = []
        for name, created, updated in names:
            figures = self.campaign(name)
            assert figures is not None
            out.append({"campaign": name, "budget": figures.budget, "charged": figures.charged,
                        "reserved": figures.reserved, "left": figures.left, "rows": figures.rows,
                        "created_at": created, "updated_at": updated})
        return out
