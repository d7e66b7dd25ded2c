"""The api key never appears in an error message."""

from arb_pipeline.connectors.sportsbooks.errors import OddsAuthError, redact_url


def test_redact_url_hides_every_api_key_value():
    url = "https://api.the-odds-api.com/v4/sports?apiKey=0123abcd&regions=us&APIKEY=zz"
    assert redact_url(url) == "https://api.the-odds-api.com/v4/sports?apiKey=***&regions=us&APIKEY=***"


def test_errors_redact_message_and_url():
    error = OddsAuthError("failed at https://x/v4?apiKey=secret123", status=401, error_code="INVALID_KEY",
                          url="https://x/v4/sports?apiKey=secret123")
    assert "secret123" not in str(error) and "secret123" not in repr(error) and "secret123" not in error.url
    assert "HTTP 401" in str(error) and "error_code=INVALID_KEY" in str(error)
