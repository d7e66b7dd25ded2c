"""Signature verification: the simulator accepts exactly what Kalshi accepts (kalshi-api.md §2.1)."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding

from arb_pipeline.sim.auth import (
    AuthError,
    KeyMaterial,
    SignatureVerifier,
    demo_key_material,
    generate_key_material,
    sign,
    signed_headers,
)
from arb_pipeline.sim.server import SimConfig

NOW_MS = 1_795_539_600_000


@pytest.fixture(scope="module")
def key() -> KeyMaterial:
    return generate_key_material()


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def verifier(key: KeyMaterial) -> SignatureVerifier:
    return SignatureVerifier(key, wall_ms=lambda: NOW_MS)


def test_valid_signature_is_accepted(key):
    headers = signed_headers(key.private_key_pem, key.key_id, "GET", "/trade-api/v2/portfolio/orders", NOW_MS)
    assert verifier(key).verify(lower(headers), "GET", "/trade-api/v2/portfolio/orders") == key.key_id


def test_signature_uses_pss_with_32_byte_salt(key):
    """A signature made with a different salt length (PSS.MAX_LENGTH) is refused: salt must be 32."""
    private = serialization.load_pem_private_key(key.private_key_pem, password=None)
    ts = str(NOW_MS)
    message = (ts + "GET/trade-api/v2/portfolio/balance").encode()
    sig = private.sign(message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH),
                       hashes.SHA256())
    headers = {"kalshi-access-key": key.key_id, "kalshi-access-timestamp": ts,
               "kalshi-access-signature": base64.b64encode(sig).decode()}
    with pytest.raises(AuthError):
        verifier(key).verify(headers, "GET", "/trade-api/v2/portfolio/balance")


@pytest.mark.parametrize(("signed_method", "signed_path", "ts_offset_ms", "reason"), [
    ("GET", "/trade-api/v2/portfolio/orders", 0, "tampered path"),
    ("POST", "/trade-api/v2/portfolio/balance", 0, "wrong method"),
    ("GET", "/trade-api/v2/portfolio/balance?limit=5", 0, "query string in the signed message"),
    ("GET", "/portfolio/balance", 0, "path without /trade-api/v2"),
    ("GET", "/trade-api/v2/portfolio/balance", -31_000, "stale timestamp"),
    ("GET", "/trade-api/v2/portfolio/balance", 31_000, "timestamp from the future"),
])
def test_rejections(key, signed_method, signed_path, ts_offset_ms, reason):
    headers = signed_headers(key.private_key_pem, key.key_id, signed_method, signed_path, NOW_MS + ts_offset_ms)
    with pytest.raises(AuthError):
        verifier(key).verify(lower(headers), "GET", "/trade-api/v2/portfolio/balance")


def test_within_skew_is_accepted(key):
    headers = signed_headers(key.private_key_pem, key.key_id, "GET", "/trade-api/v2/x", NOW_MS - 29_000)
    verifier(key).verify(lower(headers), "GET", "/trade-api/v2/x")


def test_seconds_timestamp_unknown_key_and_garbage_are_rejected(key):
    seconds = str(NOW_MS // 1000)
    headers = {"kalshi-access-key": key.key_id, "kalshi-access-timestamp": seconds,
               "kalshi-access-signature": sign(key.private_key_pem, seconds, "GET", "/trade-api/v2/x")}
    with pytest.raises(AuthError, match="30 s"):
        verifier(key).verify(headers, "GET", "/trade-api/v2/x")
    good = lower(signed_headers(key.private_key_pem, key.key_id, "GET", "/trade-api/v2/x", NOW_MS))
    with pytest.raises(AuthError, match="unknown"):
        verifier(key).verify({**good, "kalshi-access-key": "someone-else"}, "GET", "/trade-api/v2/x")
    with pytest.raises(AuthError, match="base64"):
        verifier(key).verify({**good, "kalshi-access-signature": "%%%"}, "GET", "/trade-api/v2/x")
    with pytest.raises(AuthError, match="missing"):
        verifier(key).verify({}, "GET", "/trade-api/v2/x")


def test_ed25519_keys_sign_the_same_message():
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    material = KeyMaterial("ed-key", private.public_key())
    headers = signed_headers(pem, "ed-key", "GET", "/trade-api/v2/portfolio/balance", NOW_MS)
    verifier(material).verify(lower(headers), "GET", "/trade-api/v2/portfolio/balance")
    with pytest.raises(AuthError):
        verifier(material).verify(lower(headers), "GET", "/trade-api/v2/portfolio/fills")


def test_the_demo_private_key_is_never_readable_by_others_not_even_for_a_moment(tmp_path, monkeypatch):
    """It used to be written with the umask's mode (0644, 0666 here) and chmod-ed to 0600 afterwards."""
    import os
    import stat
    from pathlib import Path

    key_file = (tmp_path / "sim" / "demo_kalshi_key.pem").resolve()
    seen: list[int] = []  # the key file's mode each time it held the key
    write_bytes, replace = Path.write_bytes, os.replace

    def spy_write(self, data):
        written = write_bytes(self, data)
        if self.resolve() == key_file:
            seen.append(stat.S_IMODE(self.stat().st_mode))
        return written

    def spy_replace(src, dst, *a, **kw):
        if Path(dst).resolve() == key_file:
            seen.append(stat.S_IMODE(os.stat(src).st_mode))
        return replace(src, dst, *a, **kw)

    monkeypatch.setattr(Path, "write_bytes", spy_write)
    monkeypatch.setattr(os, "replace", spy_replace)
    old = os.umask(0)  # the most permissive umask: nothing but the code's own mode protects the key
    try:
        demo_key_material(tmp_path / "sim")
    finally:
        os.umask(old)
    assert seen and all(mode == 0o600 for mode in seen), [oct(m) for m in seen]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not [p for p in key_file.parent.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_demo_key_is_created_once_and_reused(tmp_path):
    first, created = demo_key_material(tmp_path / "sim")
    second, created_again = demo_key_material(tmp_path / "sim")
    assert created and not created_again
    assert first.key_id == second.key_id and first.private_key_pem == second.private_key_pem
    assert (tmp_path / "sim" / "demo_kalshi_key.pub.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY")
    assert (tmp_path / "sim" / "demo_kalshi_key_id.txt").read_text().strip() == first.key_id


def test_over_http(make_venue):
    venue = make_venue()
    assert venue.signed("GET", "/portfolio/balance").status_code == 200
    # the query string is not part of the signed path
    assert venue.signed("GET", "/portfolio/orders", params={"limit": 5}).status_code == 200
    path = "/trade-api/v2/portfolio/orders"
    h = venue.handle
    with_query = signed_headers(h.private_key_pem, h.key_id, "GET", path + "?limit=5")
    assert venue.http.get(path, params={"limit": 5}, headers=with_query).status_code == 401
    tampered = signed_headers(h.private_key_pem, h.key_id, "GET", "/trade-api/v2/portfolio/fills")
    assert venue.http.get(path, headers=tampered).status_code == 401
    stale = signed_headers(h.private_key_pem, h.key_id, "GET", path, time.time_ns() // 1_000_000 - 60_000)
    response = venue.http.get(path, headers=stale)
    assert response.status_code == 401 and response.json()["error"]["code"] == "authentication_error"
    assert venue.http.get(path).status_code == 401  # unsigned portfolio call
    # public market data: unsigned and signed both work; a bad signature does not
    assert venue.public("/exchange/status").status_code == 200
    assert venue.signed("GET", "/exchange/status").status_code == 200
    bad = signed_headers(h.private_key_pem, h.key_id, "GET", "/trade-api/v2/series")
    assert venue.http.get("/trade-api/v2/exchange/status", headers=bad).status_code == 401


def test_configured_public_key_is_used(make_venue):
    material = generate_key_material()
    public_pem = material.public_key.public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    venue = make_venue(SimConfig(kalshi_key_id="configured-id", kalshi_public_key_pem=public_pem,
                                 games_per_league={"NBA": 1}, kalshi_tier=None))
    assert venue.handle.key_id == "configured-id" and venue.handle.private_key_pem is None
    path = "/trade-api/v2/portfolio/balance"
    ok = signed_headers(material.private_key_pem, "configured-id", "GET", path)
    assert venue.http.get(path, headers=ok).status_code == 200
    other = generate_key_material()
    wrong = signed_headers(other.private_key_pem, "configured-id", "GET", path)
    assert venue.http.get(path, headers=wrong).status_code == 401
