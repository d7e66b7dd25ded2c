"""Typed errors of the sportsbook odds connectors.

Callers branch on the *type*, never on message text: an auth problem must stop the poller for good,
an exhausted quota must stop it until the quota resets, a rate limit or a server error is transient.
Messages never carry the api key: every URL that goes into one passes through `redact_url` first.
"""

from __future__ import annotations

import re

_API_KEY_RE = re.compile(r"(?i)(apiKey=)[^&\s\"']*")


def redact_url(url: object) -> str:
    """The URL as text with the value of every `apiKey` query parameter replaced by `***`."""
    return _API_KEY_RE.sub(r"\1***", str(url))


class OddsError(Exception):
    """Base of every error raised by an odds provider."""


class OddsPayloadError(OddsError):
    """A response or recorded file is structurally wrong (not JSON, not the documented shape)."""


class OddsApiError(OddsError):
    """The provider answered with an error (or not at all). Carries what the provider said."""

    def __init__(self, message: str, *, status: int | None = None, error_code: str | None = None,
                 url: str | None = None) -> None:
        self.status = status
        self.error_code = error_code
        self.url = redact_url(url) if url is not None else None
        parts = [redact_url(message)]
        if status is not None:
            parts.append(f"HTTP {status}")
        if error_code:
            parts.append(f"error_code={error_code}")
        if self.url:
            parts.append(f"url={self.url}")
        super().__init__(" | ".join(parts))


class OddsAuthError(OddsApiError):
    """Missing, invalid or deactivated api key: fix the configuration; retrying cannot help."""


class OddsQuotaExhausted(OddsApiError):
    """No usage credits left (provider said OUT_OF_USAGE_CREDITS): stop polling until the reset."""


class QuotaFloorReached(OddsQuotaExhausted):
    """Refused *before* calling: the call would take the remaining credits below the configured floor."""


class OddsRequestError(OddsApiError):
    """The provider rejected the request's parameters (422 INVALID_MARKET, 404 UNKNOWN_SPORT, ...)."""


class OddsTransientError(OddsApiError):
    """A failure worth retrying with backoff; raised to the caller only once the retries are spent."""


class OddsRateLimited(OddsTransientError):
    """429 EXCEEDED_FREQ_LIMIT still returned after every retry."""


class OddsServerError(OddsTransientError):
    """5xx, timeout or connection failure still happening after every retry."""


class OddsReplayError(OddsError):
    """A replay was asked for something the recorded snapshot does not hold."""
