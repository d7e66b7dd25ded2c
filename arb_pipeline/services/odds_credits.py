"""Odds API credits: poll odds at their refresh rate, and project a month of credits against the plan.

The scan runs every ARB_SCAN_INTERVAL_S (10 s) for the Kalshi books; sportsbook lines move far less
often, and every odds call costs credits. So a capture re-fetches a sport's odds only when the odds it
last stored are older than that sport's refresh interval (`Settings.odds_refresh_for`, ARB_ODDS_REFRESH_S
= 60 s by default, ARB_ODDS_REFRESH_BY_SPORT per sport); younger odds are reused verbatim, with their own
fetch time, so their quotes age honestly and a replay of the stored snapshot sees exactly the same.

`project_monthly_credits` is the one computation of projected monthly use that the CLI
(`arb-pipeline odds-credits`) and the `sportsbook_odds` asset metadata show next to the plan's quota
(ODDS_API_MONTHLY_QUOTA).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from arb_pipeline.settings import Settings

SECONDS_PER_MONTH = 30 * 24 * 3600  # a 30-day month


@dataclass(frozen=True)
class ReusedOdds:
    """A sport's odds response from an earlier capture, still within its refresh interval."""

    text: str  # the body as received
    odds_format: str | None
    fetched_at: datetime


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def reusable_odds(payloads: Mapping[str, str], now: datetime, settings: Settings) -> dict[str, ReusedOdds]:
    """The odds of a stored capture's `payloads` that are younger than their sport's refresh interval.

    Reads the capture's own meta.json for each sport's fetch time (`odds_fetched_at_by_sport`, else
    `odds_fetched_at`); a sport whose fetch time is unknown, or in the future, is not reused.
    """
    from arb_pipeline.connectors.snapshot import META_FILE, ODDS_FETCHED_BY_SPORT

    if META_FILE not in payloads:
        return {}
    meta = json.loads(payloads[META_FILE])
    by_sport = meta.get(ODDS_FETCHED_BY_SPORT) or {}
    formats = meta.get("odds_format") or {}
    reused: dict[str, ReusedOdds] = {}
    for sport in _split(settings.odds_sports):
        text = payloads.get(f"odds_{sport}.json")
        stamp = by_sport.get(sport) or meta.get("odds_fetched_at")
        if text is None or not isinstance(stamp, str):
            continue
        fetched_at = datetime.fromisoformat(stamp)
        if fetched_at.tzinfo is None:
            continue
        age = (now - fetched_at).total_seconds()
        if 0 <= age < settings.odds_refresh_for(sport):
            odds_format = formats.get(sport) if isinstance(formats, dict) else formats
            reused[sport] = ReusedOdds(text=text, odds_format=odds_format, fetched_at=fetched_at)
    return reused


@dataclass(frozen=True)
class SportCredits:
    sport: str
    poll_every_s: float
    credits_per_call: int
    credits_per_month: int


@dataclass(frozen=True)
class CreditProjection:
    sports: tuple[SportCredits, ...]
    credits_per_month: int
    monthly_quota: int

    @property
    def share_of_quota(self) -> float:
        return self.credits_per_month / self.monthly_quota

    @property
    def within_quota(self) -> bool:
        return self.credits_per_month <= self.monthly_quota

    def describe(self) -> str:
        return (f"projected {self.credits_per_month:,} Odds API credits/month of the plan's {self.monthly_quota:,} "
                f"({self.share_of_quota:.0%})" + ("" if self.within_quota else " - OVER QUOTA"))

    def as_dict(self) -> dict[str, object]:
        return {"credits_per_month": self.credits_per_month, "monthly_quota": self.monthly_quota,
                "share_of_quota": round(self.share_of_quota, 4), "within_quota": self.within_quota,
                "sports": {s.sport: {"poll_every_s": s.poll_every_s, "credits_per_call": s.credits_per_call,
                                     "credits_per_month": s.credits_per_month} for s in self.sports}}


def project_monthly_credits(settings: Settings, *, scan_interval_s: float) -> CreditProjection:
    """Upper bound of a month's credits with the scan running continuously: each sport is fetched at
    most once per scan and at most once per its refresh interval (an empty response costs nothing)."""
    from arb_pipeline.connectors.sportsbooks.quota import estimate_cost

    if scan_interval_s <= 0:
        raise ValueError(f"scan_interval_s must be > 0, got {scan_interval_s!r}")
    per_call = estimate_cost(settings.odds_markets(), regions=_split(settings.odds_api_regions),
                             bookmakers=_split(settings.odds_api_bookmakers))
    sports = []
    for sport in _split(settings.odds_sports):
        every = max(scan_interval_s, settings.odds_refresh_for(sport))
        # a reused response is re-fetched at the first scan after it expires: at most ceil(every / scan) scans
        every = math.ceil(every / scan_interval_s) * scan_interval_s
        calls = math.ceil(SECONDS_PER_MONTH / every)
        sports.append(SportCredits(sport, every, per_call, calls * per_call))
    return CreditProjection(tuple(sports), sum(s.credits_per_month for s in sports), settings.odds_api_monthly_quota)
