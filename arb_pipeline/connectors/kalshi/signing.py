"""Kalshi request signing (kalshi-api.md §2.1) as an `httpx.Auth`.

Message = timestamp-ms + METHOD + path, where the path runs from the root (so it includes
``/trade-api/v2``) and stops before the query string; the body and host are not signed.
RSA keys sign with RSA-PSS/SHA-256, MGF1(SHA-256), salt = digest length; Ed25519 keys sign
the same message with plain Ed25519.

The private key lives only inside the signer's private slot: `repr`, `str`, errors and logs
show neither the key, nor the signature, nor the key id (DESIGN.md money rule 7 lists the key id
as a secret too).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from .errors import KalshiConfigError

if TYPE_CHECKING:
    from arb_pipeline.settings import Settings

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


_KEYS: dict[bytes, object] = {}  # SHA-256 of a PEM -> its loaded key (never the PEM itself)
_KEYS_MAX = 8
_KEYS_LOCK = threading.Lock()


def _loaded_key(data: bytes) -> object:
    """`load_pem_private_key(data)`, once per distinct key per process. Why: an RSA key takes ~40 ms of
    CPU to load and check, and every scan run built a signer for its capture and its execution clients
    (~0.13 s of each sensor -> order run at 1,000 games, benchmarks/bench_pipeline_latency.py --profile).
    Keyed by the PEM's digest so the cache holds no key text; a loaded key object is immutable."""
    digest = hashlib.sha256(data).digest()
    key = _KEYS.get(digest)
    if key is None:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except Exception:  # never chained: a parser's message could quote key bytes
            raise KalshiConfigError("the Kalshi private key is not a readable unencrypted PEM key") from None
        with _KEYS_LOCK:
            if len(_KEYS) >= _KEYS_MAX:
                _KEYS.clear()
            _KEYS[digest] = key
    return key


class KalshiSigner:
    """Holds one API key and produces the three auth headers for a request."""

    __slots__ = ("_key_id", "_key", "_algorithm", "_clock_ms")

    def __init__(
        self,
        key_id: str,
        private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
        *,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        if not isinstance(key_id, str) or not key_id.strip():
            raise KalshiConfigError("KALSHI_API_KEY_ID is empty")
        if isinstance(private_key, rsa.RSAPrivateKey):
            self._algorithm = "rsa-pss-sha256"
        elif isinstance(private_key, ed25519.Ed25519PrivateKey):
            self._algorithm = "ed25519"
        else:
            raise KalshiConfigError(
                f"unsupported Kalshi key type {type(private_key).__name__}: expected RSA or Ed25519"
            )
        self._key_id = key_id.strip()
        self._key = private_key
        self._clock_ms = clock_ms

    # --- construction ----------------------------------------------------------------------------
    @classmethod
    def from_pem(cls, key_id: str, pem: bytes | str, *, clock_ms: Callable[[], int] = _now_ms) -> KalshiSigner:
        """Load an unencrypted PEM key (PKCS#1 or PKCS#8, RSA or Ed25519)."""
        data = pem.encode() if isinstance(pem, str) else pem
        if b"\\n" in data and b"\n" not in data.strip():
            data = data.replace(b"\\n", b"\n")  # a PEM squeezed onto one line of an env file
        return cls(key_id, _loaded_key(data), clock_ms=clock_ms)  # type: ignore[arg-type]

    @classmethod
    def from_file(cls, key_id: str, path: str | Path, *, clock_ms: Callable[[], int] = _now_ms) -> KalshiSigner:
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError as exc:
            raise KalshiConfigError(f"cannot read the Kalshi private key file {str(path)!r}: {exc.strerror}") from None
        return cls.from_pem(key_id, data, clock_ms=clock_ms)

    @classmethod
    def from_settings(cls, settings: Settings) -> KalshiSigner | None:
        """The signer the settings describe, or None when no credentials are configured.

        A key id without a key (or the reverse) is a configuration error, not silent public mode.
        The file path wins when both a path and an inline PEM are set.
        """
        key_id = settings.kalshi_key_id.get_secret_value() if settings.kalshi_key_id else None
        pem = settings.kalshi_private_key_pem
        path = settings.kalshi_private_key_path
        if not key_id and not pem and not path:
            return None
        if not key_id:
            raise KalshiConfigError("a Kalshi private key is configured but KALSHI_API_KEY_ID is not")
        if path:
            return cls.from_file(key_id, path)
        if pem:
            return cls.from_pem(key_id, pem.get_secret_value())
        raise KalshiConfigError(
            "KALSHI_API_KEY_ID is set but neither KALSHI_PRIVATE_KEY_PATH nor KALSHI_PRIVATE_KEY_PEM is"
        )

    # --- signing ---------------------------------------------------------------------------------
    @property
    def algorithm(self) -> str:
        return self._algorithm

    def public_key(self) -> rsa.RSAPublicKey | ed25519.Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, message: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(
                message,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                hashes.SHA256(),
            )
        return self._key.sign(message)

    def headers(self, method: str, path: str, *, timestamp_ms: int | None = None) -> dict[str, str]:
        """The three auth headers; `path` must be the root-relative path without the query."""
        if "?" in path:
            raise ValueError("the signed path must not contain the query string")
        ts = str(self._clock_ms() if timestamp_ms is None else timestamp_ms)
        signature = self.sign((ts + method.upper() + path).encode())
        return {
            HEADER_KEY: self._key_id,
            HEADER_TIMESTAMP: ts,
            HEADER_SIGNATURE: base64.b64encode(signature).decode("ascii"),
        }

    def __repr__(self) -> str:
        return f"KalshiSigner(algorithm={self._algorithm!r}, key_id=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> None:  # type: ignore[override]
        raise TypeError("KalshiSigner holds a private key and cannot be pickled")


def signed_path(request: httpx.Request) -> str:
    """The path Kalshi verifies: as sent on the request line (percent-encoded), without the query.

    The official SDK signs ``urlparse(url).path`` (the raw form); tickers are [A-Z0-9.-] so raw and
    decoded agree in practice.
    """
    return request.url.raw_path.split(b"?", 1)[0].decode("ascii")


class KalshiAuth(httpx.Auth):
    """Signs every request just before it is sent, so each retry carries a fresh timestamp."""

    requires_request_body = False
    requires_response_body = False

    def __init__(self, signer: KalshiSigner) -> None:
        self._signer = signer

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self._signer.headers(request.method, signed_path(request)))
        yield request

    def __repr__(self) -> str:
        return f"KalshiAuth({self._signer!r})"
