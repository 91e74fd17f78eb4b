"""Pricing: one rule per job (``_rules``: what it reads and how it prices), media lengths read from bytes or
probed from URLs, user and calibrated rates, and calibration against the account's balance."""

from __future__ import annotations

from ._calibration import calibrate, calibrated_rates, resolve_rates
from ._media import speech_seconds
from ._probe import probe_lengths
from ._reads import Reads, reads_of
from ._rules import RATES, UNDOCUMENTED, Price, PriceContext, Priced, Rate, estimate, plan_key, rule

__all__ = [
    "RATES", "UNDOCUMENTED", "Price", "PriceContext", "Priced", "Rate", "Reads", "calibrate", "calibrated_rates",
    "estimate", "plan_key", "probe_lengths", "reads_of", "resolve_rates", "rule", "speech_seconds",
]
