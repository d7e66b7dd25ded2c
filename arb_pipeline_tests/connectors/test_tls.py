"""One TLS context per process, shared by every venue client."""

from __future__ import annotations

import ssl

import httpx

from arb_pipeline.connectors.kalshi.client import KalshiClient
from arb_pipeline.connectors.sportsbooks.the_odds_api import TheOddsApiProvider
from arb_pipeline.connectors.tls import default_ssl_context


def _context(client: httpx.Client) -> ssl.SSLContext:
    return client._transport._pool._ssl_context  # httpx's HTTPTransport -> httpcore's ConnectionPool


def test_venue_clients_share_one_context_that_verifies_certificates_like_httpx_does():
    context = default_ssl_context()
    assert context is default_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname  # httpx's default: verify
    kalshi = KalshiClient("https://api.elections.kalshi.com/trade-api/v2")
    odds = TheOddsApiProvider(api_key="k" * 32)
    try:
        assert _context(kalshi._http._client) is context and _context(odds._client) is context
    finally:
        kalshi.close()
        odds.close()
