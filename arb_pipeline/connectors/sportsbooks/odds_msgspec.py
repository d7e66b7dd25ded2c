"""The Odds API v4 `/odds` response bytes → `SportsbookQuote`s, decoded once, in C, by msgspec.

The checked path (`normalize.normalize_odds_response` over `json.loads` output) builds a dict per
event, bookmaker, market and outcome (~300,000 at 5,000 games) and then reads them back key by key.
Here msgspec decodes the bytes straight into the small Structs below - only the members the normalizer
reads, unknown members skipped without building them - and the *same* walk runs over them
(`normalize.Shape`: one set of rules, one place), so quotes, problems (same JSON paths and messages),
ignored markets and detected format are exactly the checked path's.

What msgspec decodes is what `jsonio.loads_exact` reads: integers as `int`, every other number from its
own text as a `Decimal` (shared per distinct text, `jsonio.shared_decimals`), the last of a repeated
key. The leaves are typed `Any`, so a string price or a list where a name belongs still reaches the
normalizer's rules and becomes the same problem. Only the *containers* are typed (a list of event
objects, each `bookmakers` a list of objects, ...): a document msgspec refuses - not JSON, not UTF-8, a
lone surrogate, NaN, nesting beyond its depth limit, an event that is not an object, `markets` that is an object - raises
`OddsNotPlain`, and the caller parses it the checked way, which reports it with its own wording and
location.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import Any

import msgspec

from arb_pipeline.connectors.sportsbooks.base import NormalizeResult
from arb_pipeline.connectors.sportsbooks.jsonio import msgspec_input, shared_decimals
from arb_pipeline.connectors.sportsbooks.normalize import ABSENT, Shape, normalize_odds_response
from arb_pipeline.connectors.sportsbooks.prices import OddsFormat


class OddsNotPlain(ValueError):
    """msgspec refused the document's shape or syntax: parse it the checked way, which names the problem."""


# A member missing from its object reads None, like `dict.get` in the checked path (`sport_key` reads
# `ABSENT`: a missing one means "the requested sport", a null one is a problem). `forbid_unknown_fields`
# stays off: the API's other members (sport_title, links, sids, bet limits) are skipped, as there.


class OddsOutcome(msgspec.Struct):
    name: Any = None
    price: Any = None
    point: Any = None


class OddsMarket(msgspec.Struct):
    key: Any = None
    last_update: Any = None
    outcomes: list[OddsOutcome] | None = None


class OddsBookmaker(msgspec.Struct):
    key: Any = None
    title: Any = None
    last_update: Any = None
    markets: list[OddsMarket] | None = None


class OddsEvent(msgspec.Struct):
    id: Any = None
    sport_key: Any = ABSENT
    home_team: Any = None
    away_team: Any = None
    commence_time: Any = None
    bookmakers: list[OddsBookmaker] | None = None


# The Structs read through `normalize.Shape`: every node is an object by construction (msgspec refused
# the document otherwise), so each reader is one C call returning the fields in the Shape's order.
STRUCTS = Shape(
    event=attrgetter("id", "sport_key", "home_team", "away_team", "commence_time", "bookmakers"),
    bookmaker=attrgetter("key", "title", "last_update", "markets"),
    market=attrgetter("key", "last_update", "outcomes"),
    outcome=attrgetter("name", "price", "point"),
)


def decode_odds(data: bytes | str) -> list[OddsEvent]:
    """The response's events as Structs; `OddsNotPlain` when msgspec refuses the document.

    A fresh decoder per document: its `float_hook` shares one `Decimal` per distinct number text within
    the document (prices repeat), as `loads_exact` does."""
    decoder = msgspec.json.Decoder(list[OddsEvent], float_hook=shared_decimals())
    try:
        return decoder.decode(msgspec_input(data))
    except (msgspec.DecodeError, RecursionError) as exc:  # a ValidationError is a DecodeError; deep nesting
        raise OddsNotPlain(str(exc)) from None


def normalize_odds_bytes(
    data: bytes | str,
    *,
    sport_key: str,
    fetched_at: datetime,
    provider: str = "the_odds_api",
    odds_format: OddsFormat | None = None,
    source: str = "",
) -> NormalizeResult:
    """`normalize_odds_response(json.loads(data), ...)` (exact numbers), without the dicts: the same
    result, field for field. Raises `OddsNotPlain` when msgspec refuses the document (the caller then
    runs its checked path), and whatever `normalize_odds_response` raises (`OddsPayloadError` for an
    ambiguous odds format, ValueError for bad arguments)."""
    return normalize_odds_response(decode_odds(data), sport_key=sport_key, fetched_at=fetched_at,
                                   provider=provider, odds_format=odds_format, source=source, shape=STRUCTS)
