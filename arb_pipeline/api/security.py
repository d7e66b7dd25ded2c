"""The operator token that guards every mutating route.

The token comes from ARB_API_TOKEN or from the file ARB_API_TOKEN_FILE names (a Docker/Kubernetes
secret mount); it is compared in constant time (`hmac.compare_digest`) and never logged, echoed or
put in an error. Without a token configured the API is read-only and each mutating route says so,
with what to set, instead of acting.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from arb_pipeline.settings import Settings

MIN_TOKEN_LENGTH = 16
NO_TOKEN_MESSAGE = ("this route changes trading state and the API has no operator token configured: set "
                    "ARB_API_TOKEN (or ARB_API_TOKEN_FILE) and restart `arb-pipeline api`; until then the "
                    "API is read-only")

bearer = HTTPBearer(auto_error=False, description="the operator token (ARB_API_TOKEN)")


class TokenConfigError(ValueError):
    """The configured token is unusable (empty file, too short, both sources set)."""


@dataclass(frozen=True)
class OperatorToken:
    """The configured token, or none (read-only API). Its value never appears in a repr."""

    value: bytes | None = field(default=None, repr=False)

    @property
    def configured(self) -> bool:
        return self.value is not None

    def matches(self, presented: str) -> bool:
        if self.value is None:
            return False
        return hmac.compare_digest(presented.encode("utf-8"), self.value)


def load_token(settings: Settings) -> OperatorToken:
    """The token from ARB_API_TOKEN or ARB_API_TOKEN_FILE (not both); refuse a weak or empty one."""
    inline = settings.api_token.get_secret_value().strip() if settings.api_token is not None else ""
    path = settings.api_token_file
    if inline and path is not None:
        raise TokenConfigError("set ARB_API_TOKEN or ARB_API_TOKEN_FILE, not both")
    if path is not None:
        try:
            inline = path.expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise TokenConfigError(f"ARB_API_TOKEN_FILE {path}: cannot read it ({type(exc).__name__})") from None
        if not inline:
            raise TokenConfigError(f"ARB_API_TOKEN_FILE {path} is empty")
    if not inline:
        return OperatorToken(None)
    if len(inline) < MIN_TOKEN_LENGTH:
        raise TokenConfigError(f"the API token must be at least {MIN_TOKEN_LENGTH} characters "
                               "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    return OperatorToken(inline.encode("utf-8"))


async def require_operator(request: Request,
                           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
    """FastAPI dependency for mutating routes: 403 without a configured token, 401 without the right one."""
    token: OperatorToken = request.app.state.token
    if not token.configured:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=NO_TOKEN_MESSAGE)
    if credentials is None or credentials.scheme.lower() != "bearer" or not token.matches(credentials.credentials):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="missing or wrong operator token "
                            "(send `Authorization: Bearer <ARB_API_TOKEN>`)", headers={"WWW-Authenticate": "Bearer"})
