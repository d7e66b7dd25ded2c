"""Kalshi request-signature verification, and the demo key pair the simulator hands to clients.

The simulator checks signatures exactly the way a client must produce them (kalshi-api.md §2.1):
message = timestamp_ms + METHOD + path (from the root, query string excluded), RSA-PSS SHA-256 with
MGF1(SHA-256) and a 32-byte salt (Ed25519 keys sign the same message). A timestamp more than 30 s
away from the server's wall clock is rejected, so a client that signs seconds instead of
milliseconds, signs the query string, or signs a stale timestamp fails here first.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

MAX_SKEW_MS = 30_000
KEY_HEADER = "kalshi-access-key"
TS_HEADER = "kalshi-access-timestamp"
SIG_HEADER = "kalshi-access-signature"

DEMO_KEY_FILE = "demo_kalshi_key.pem"
DEMO_PUBLIC_KEY_FILE = "demo_kalshi_key.pub.pem"
DEMO_KEY_ID_FILE = "demo_kalshi_key_id.txt"


class AuthError(Exception):
    """Why a request's signature was refused; the message goes into the 401 body's `details`."""


@dataclass(frozen=True)
class KeyMaterial:
    key_id: str = field(repr=False)
    public_key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey = field(repr=False)
    private_key_pem: bytes | None = field(default=None, repr=False)  # only when the simulator generated it


def generate_key_material() -> KeyMaterial:
    """A fresh 2048-bit RSA key pair (PKCS#1 PEM, as Kalshi's key generator returns) and a UUID key id."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    return KeyMaterial(str(uuid.uuid4()), private.public_key(), pem)


def load_public_key(pem: bytes) -> rsa.RSAPublicKey | ed25519.Ed25519PublicKey:
    """Load a PEM public key; a private key PEM is accepted too and its public half is used."""
    if b"PRIVATE KEY" in pem:
        key = serialization.load_pem_private_key(pem, password=None).public_key()
    else:
        key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ValueError("Kalshi keys are RSA or Ed25519")
    return key


def _write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by its owner only *from the start*: a temporary file created 0600
    (mkstemp) in the same directory, then renamed over `path`. Writing first and chmod-ing after left a
    moment in which the key was world-readable."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def demo_key_material(directory: Path) -> tuple[KeyMaterial, bool]:
    """Load the demo key from `directory`, creating it on first use. Returns (material, created)."""
    key_path, pub_path, id_path = (directory / DEMO_KEY_FILE, directory / DEMO_PUBLIC_KEY_FILE,
                                   directory / DEMO_KEY_ID_FILE)
    if key_path.exists() and id_path.exists():
        pem = key_path.read_bytes()
        return KeyMaterial(id_path.read_text().strip(), load_public_key(pem), pem), False
    material = generate_key_material()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    assert material.private_key_pem is not None
    _write_private(key_path, material.private_key_pem)
    pub_path.write_bytes(material.public_key.public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    id_path.write_text(material.key_id + "\n")
    return material, True


def sign(private_key_pem: bytes, timestamp_ms: str, method: str, path: str) -> str:
    """Sign as a Kalshi client does; used by the simulator's own tests and tools."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    message = (timestamp_ms + method.upper() + path).encode()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return base64.b64encode(key.sign(message)).decode()
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    return base64.b64encode(signature).decode()


def signed_headers(private_key_pem: bytes, key_id: str, method: str, path: str,
                   now_ms: int | None = None) -> dict[str, str]:
    ts = str(now_ms if now_ms is not None else time.time_ns() // 1_000_000)
    return {"KALSHI-ACCESS-KEY": key_id, "KALSHI-ACCESS-TIMESTAMP": ts,
            "KALSHI-ACCESS-SIGNATURE": sign(private_key_pem, ts, method, path)}


class SignatureVerifier:
    """Checks the three KALSHI-ACCESS-* headers against one configured public key."""

    def __init__(self, key: KeyMaterial, wall_ms: Callable[[], int] | None = None) -> None:
        self._key = key
        self._wall_ms = wall_ms or (lambda: time.time_ns() // 1_000_000)

    @staticmethod
    def has_signature(headers: dict[str, str]) -> bool:
        return any(h in headers for h in (KEY_HEADER, TS_HEADER, SIG_HEADER))

    def verify(self, headers: dict[str, str], method: str, path: str) -> str:
        """Return the key id when the headers sign `method path`; raise AuthError otherwise."""
        key_id, ts, sig = headers.get(KEY_HEADER), headers.get(TS_HEADER), headers.get(SIG_HEADER)
        if not key_id or not ts or not sig:
            raise AuthError("missing KALSHI-ACCESS-KEY, KALSHI-ACCESS-TIMESTAMP or KALSHI-ACCESS-SIGNATURE")
        if key_id != self._key.key_id:
            raise AuthError("unknown API key id")
        if not ts.isdigit():
            raise AuthError("KALSHI-ACCESS-TIMESTAMP must be Unix milliseconds")
        if abs(self._wall_ms() - int(ts)) > MAX_SKEW_MS:
            raise AuthError("KALSHI-ACCESS-TIMESTAMP is more than 30 s away from the server clock")
        try:
            raw = base64.b64decode(sig, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AuthError("signature is not valid base64") from exc
        message = (ts + method.upper() + path).encode()
        try:
            if isinstance(self._key.public_key, ed25519.Ed25519PublicKey):
                self._key.public_key.verify(raw, message)
            else:
                self._key.public_key.verify(raw, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                                      salt_length=32), hashes.SHA256())
        except InvalidSignature as exc:
            raise AuthError("signature does not match timestamp + method + path") from exc
        return key_id
