"""Request signing: signatures verify with the public key; the server (which verifies like Kalshi)
rejects tampered paths, signed query strings and stale timestamps; keys load from file or env;
nothing secret ever shows in a repr, a str or an exception."""

from __future__ import annotations

import base64
import pickle
import time

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from arb_pipeline.connectors.kalshi import (
    KalshiAuthError,
    KalshiClient,
    KalshiConfigError,
    KalshiSigner,
    RateLimiter,
)
from arb_pipeline.connectors.kalshi.signing import HEADER_SIGNATURE, HEADER_TIMESTAMP, KalshiAuth
from arb_pipeline.settings import Settings

KEY_ID = "0f2b6c3e-test-key-id-4a1d"
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def test_rsa_signature_verifies_with_the_public_key(rsa_pem):
    signer = KalshiSigner.from_pem(KEY_ID, rsa_pem, clock_ms=lambda: 1767225600123)
    headers = signer.headers("get", "/trade-api/v2/portfolio/orders")
    assert headers["KALSHI-ACCESS-KEY"] == KEY_ID and headers[HEADER_TIMESTAMP] == "1767225600123"
    signature = base64.b64decode(headers[HEADER_SIGNATURE])
    assert len(signature) == 256  # 2048-bit key
    signer.public_key().verify(signature, b"1767225600123GET/trade-api/v2/portfolio/orders", PSS, hashes.SHA256())
    with pytest.raises(Exception):  # noqa: B017 - any verification failure
        signer.public_key().verify(signature, b"1767225600123GET/trade-api/v2/portfolio/fills", PSS, hashes.SHA256())


def test_ed25519_signs_the_same_message(ed25519_pem):
    signer = KalshiSigner.from_pem(KEY_ID, ed25519_pem.decode(), clock_ms=lambda: 5)
    assert signer.algorithm == "ed25519"
    sig = base64.b64decode(signer.headers("DELETE", "/trade-api/v2/portfolio/events/orders/x")[HEADER_SIGNATURE])
    signer.public_key().verify(sig, b"5DELETE/trade-api/v2/portfolio/events/orders/x")


def test_auth_signs_path_with_prefix_and_without_query(rsa_pem):
    signer = KalshiSigner.from_pem(KEY_ID, rsa_pem)
    request = httpx.Request("GET", "https://external-api.kalshi.com/trade-api/v2/portfolio/orders?limit=5&cursor=a")
    flow = KalshiAuth(signer).auth_flow(request)
    signed = next(flow)
    ts = signed.headers[HEADER_TIMESTAMP]
    sig = base64.b64decode(signed.headers[HEADER_SIGNATURE])
    signer.public_key().verify(sig, f"{ts}GET/trade-api/v2/portfolio/orders".encode(), PSS, hashes.SHA256())
    assert abs(int(ts) - time.time() * 1000) < 5_000  # milliseconds, not seconds
    with pytest.raises(ValueError, match="query"):
        signer.headers("GET", "/trade-api/v2/portfolio/orders?limit=5")


def _raw_get(server, path: str, headers: dict[str, str]) -> int:
    with httpx.Client() as http:
        return http.get(server.origin + path, headers=headers).status_code


def test_server_accepts_good_and_rejects_bad_signatures(kalshi_server):
    kalshi_server.state.balance = {"balance": 0, "balance_dollars": "0.0000", "portfolio_value": 0, "updated_ts": 0}
    signer = kalshi_server.signer()
    path = "/trade-api/v2/portfolio/balance"
    assert _raw_get(kalshi_server, path, signer.headers("GET", path)) == 200
    # a tampered path: signed for another endpoint
    assert _raw_get(kalshi_server, path, signer.headers("GET", "/trade-api/v2/portfolio/fills")) == 401
    # the /trade-api/v2 prefix left out of the signed path
    assert _raw_get(kalshi_server, path, signer.headers("GET", "/portfolio/balance")) == 401
    # the query string included in the signed message
    bad = signer.headers("GET", path)
    ts = bad[HEADER_TIMESTAMP]
    bad[HEADER_SIGNATURE] = base64.b64encode(signer.sign(f"{ts}GET{path}?subaccount=0".encode())).decode()
    assert _raw_get(kalshi_server, path + "?subaccount=0", bad) == 401
    # a stale timestamp (> 30 s), and seconds instead of milliseconds
    stale = signer.headers("GET", path, timestamp_ms=int(time.time() * 1000) - 31_000)
    assert _raw_get(kalshi_server, path, stale) == 401
    assert _raw_get(kalshi_server, path, signer.headers("GET", path, timestamp_ms=int(time.time()))) == 401


def test_client_signing_is_accepted_for_ed25519_and_stale_clock_is_auth_error(kalshi_server, ed25519_pem):
    kalshi_server.state.balance = {"balance": 0, "balance_dollars": "0.0000", "portfolio_value": 0, "updated_ts": 0}
    kalshi_server.state.public_key = serialization.load_pem_private_key(ed25519_pem, None).public_key()
    with kalshi_server.client(signer=KalshiSigner.from_pem(KEY_ID, ed25519_pem)) as client:
        assert client.get_balance().balance_cents == 0
    skewed = KalshiSigner.from_pem(KEY_ID, ed25519_pem, clock_ms=lambda: int(time.time() * 1000) - 60_000)
    with kalshi_server.client(signer=skewed) as client, pytest.raises(KalshiAuthError) as info:
        client.get_balance()
    assert info.value.code == "authentication_error"


def test_keys_load_from_file_or_env_and_bad_config_is_clear(tmp_path, rsa_pem):
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(rsa_pem)
    from_file = KalshiSigner.from_settings(Settings(KALSHI_API_KEY_ID=KEY_ID, KALSHI_PRIVATE_KEY_PATH=str(key_file)))
    one_line = rsa_pem.decode().replace("\n", "\\n")  # how a PEM often lands in an env var
    from_env = KalshiSigner.from_settings(Settings(KALSHI_API_KEY_ID=KEY_ID, KALSHI_PRIVATE_KEY_PEM=one_line))
    assert from_file is not None and from_env is not None
    assert from_file.public_key().public_numbers() == from_env.public_key().public_numbers()
    assert KalshiSigner.from_settings(Settings(KALSHI_API_KEY_ID=None, KALSHI_PRIVATE_KEY_PATH=None)) is None
    with pytest.raises(KalshiConfigError, match="KALSHI_API_KEY_ID"):
        KalshiSigner.from_settings(Settings(KALSHI_PRIVATE_KEY_PATH=str(key_file)))
    with pytest.raises(KalshiConfigError, match="neither"):
        KalshiSigner.from_settings(Settings(KALSHI_API_KEY_ID=KEY_ID))
    with pytest.raises(KalshiConfigError, match="cannot read"):
        KalshiSigner.from_file(KEY_ID, tmp_path / "missing.pem")


def test_secrets_never_appear_in_reprs_strs_or_errors(kalshi_server, rsa_pem, tmp_path, caplog, wire):
    pem_text = rsa_pem.decode()
    pem_body = pem_text.splitlines()[1]  # a line of key material
    settings = Settings(KALSHI_BASE_URL=kalshi_server.base_url, KALSHI_API_KEY_ID=KEY_ID, KALSHI_PRIVATE_KEY_PEM=pem_text)
    signer = KalshiSigner.from_settings(settings)
    client = KalshiClient.from_settings(settings, rate_limiter=RateLimiter("prestige"), max_retries=1)
    kalshi_server.state.script("GET /portfolio/balance", wire.Fault(status=500), wire.Fault(status=401))
    errors: list[BaseException] = []
    try:
        client.get_balance()
    except Exception as exc:  # noqa: BLE001
        errors.append(exc)
    # a corrupt key must not echo its bytes either
    try:
        KalshiSigner.from_pem(KEY_ID, pem_text.replace(pem_body, pem_body[::-1]))
    except KalshiConfigError as exc:
        errors.append(exc)
    client.close()
    signatures = [r["headers"]["kalshi-access-signature"] for r in kalshi_server.state.requests]
    assert signatures and errors and len(errors) == 2
    texts = [repr(signer), str(signer), repr(client), str(client), repr(KalshiAuth(signer)), repr(settings), str(settings),
             caplog.text]
    for exc in errors:
        texts += [repr(exc), str(exc), repr(exc.__cause__), repr(exc.__context__)]
    for text in texts:
        assert pem_body not in text and "PRIVATE KEY" not in text
        if text not in (repr(settings), str(settings)):  # Settings' own repr shows the key id (settings.py)
            assert KEY_ID not in text
        for sig in signatures:
            assert sig not in text
    assert type(errors[0]).__name__ == "KalshiAuthError"
    with pytest.raises(TypeError):
        pickle.dumps(signer)


def test_a_key_is_loaded_once_per_process_and_the_cache_holds_no_key_text(rsa_pem, ed25519_pem):
    from arb_pipeline.connectors.kalshi import signing

    first, second = KalshiSigner.from_pem("key-1", rsa_pem), KalshiSigner.from_pem("key-2", rsa_pem)
    assert first._key is second._key  # one RSA load (~40 ms) for every signer of the same key
    other = KalshiSigner.from_pem("key-3", ed25519_pem)
    assert other._key is not first._key and other._algorithm == "ed25519"
    assert all(len(digest) == 32 and rsa_pem.strip() not in digest for digest in signing._KEYS)
    with pytest.raises(KalshiConfigError, match="not a readable unencrypted PEM key"):
        KalshiSigner.from_pem("key-4", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
