"""Canonical form of a team or club name, so that spelling noise never decides a match.

Why each step: sportsbooks and Kalshi spell the same club differently ("Montréal" / "Montreal",
"Brighton & Hove Albion" / "Brighton and Hove Albion", "Nott'm Forest", "AFC Bournemouth"). We remove
only what carries no identity: accents, case, punctuation, repeated spaces and the generic club
suffixes fc/cf/sc/afc. Words that tell clubs apart ("united", "city", "town") are NEVER removed:
one public matcher stripped them and collapsed "Manchester United" and "Manchester City" into one
string.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

GENERIC_CLUB_TOKENS = frozenset({"fc", "cf", "sc", "afc"})
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^\w\s]|_")


def normalize_name(text: str) -> str:
    """Return the comparison key of a name: NFKD, no accents, lowercase, no punctuation, no fc/afc.

    "&" becomes "and" (so "Brighton & Hove Albion" equals "Brighton and Hove Albion"); apostrophes
    are dropped without a space ("A's" → "as"); other punctuation becomes a space ("St.Louis" →
    "st louis"). If stripping generic tokens would leave nothing (a club literally called "FC"),
    the tokens are kept.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize_name expects a str, got {type(text).__name__}: {text!r}")
    return _normalize(text)


@lru_cache(maxsize=1 << 16)
def _normalize(text: str) -> str:
    """Cached: a scan looks up the same few hundred team spellings tens of thousands of times.

    An ASCII text skips the accent step: NFKD leaves every ASCII character as it is and none of them is
    combining, so `_strip_accents` would return the text itself (loading the catalogue's ~2,300 names
    walked ~25,000 characters one by one for nothing; `test_normalize` holds the two equal)."""
    stripped = text if text.isascii() else _strip_accents(text)
    lowered = stripped.lower().replace("&", " and ")
    lowered = _APOSTROPHES.sub("", lowered)
    tokens = _NON_WORD.sub(" ", lowered).split()
    kept = [token for token in tokens if token not in GENERIC_CLUB_TOKENS]
    return " ".join(kept or tokens)


def _strip_accents(text: str) -> str:
    """NFKD, then without combining characters (the accents): "Montréal" → "Montreal"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
