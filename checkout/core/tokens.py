"""Signed tokens: email links and cookies (itsdangerous), API access tokens (PyJWT).

Each purpose has its own salt, so a token minted for one purpose never verifies for another.
The current secret signs; previous ones (`old_secrets`, SECRET_KEYS_OLD) still verify, so a key
rotation signs nobody out (see checkout/keyring.py).
All expiry uses the edge's clock so tests can move time instead of sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

import jwt
from itsdangerous import BadSignature, Signer, TimestampSigner, URLSafeTimedSerializer

from checkout.core.clock import Clock
from checkout.core.errors import InvalidToken, NotAuthenticated


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


class Tokens:
    def __init__(self, secret: str, jwt_secret: str, clock: Clock, issuer: str, old_secrets: Sequence[str] = (),
                 old_jwt_secrets: Sequence[str] = ()):
        # itsdangerous order: oldest first; the last key (the current secret) signs, all verify.
        self._secret: list[str] = [*reversed([k for k in old_secrets if k != secret]), secret]
        self._jwt_secret = jwt_secret
        self._jwt_verify = [jwt_secret, *(k for k in old_jwt_secrets if k != jwt_secret)]  # newest first
        self.clock = clock
        self.issuer = issuer

        class _ClockSigner(TimestampSigner):
            def get_timestamp(signer_self) -> int:  # noqa: N805 - itsdangerous hook
                return int(clock())

        self._signer_class = _ClockSigner

    # --- email links -------------------------------------------------------------------------
    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret, salt=f"digitaldock.{purpose}", signer=self._signer_class)

    def dumps(self, purpose: str, payload: dict[str, Any]) -> str:
        return self._serializer(purpose).dumps(payload)

    def loads(self, purpose: str, token: str, max_age_seconds: float) -> dict[str, Any]:
        try:
            data = self._serializer(purpose).loads(token, max_age=max_age_seconds)
        except (BadSignature, ValueError, TypeError):
            raise InvalidToken() from None
        if not isinstance(data, dict):
            raise InvalidToken()
        return data

    # --- cookies -----------------------------------------------------------------------------
    def sign_cookie(self, purpose: str, value: str) -> str:
        return Signer(self._secret, salt=f"digitaldock.cookie.{purpose}").sign(value).decode()

    def unsign_cookie(self, purpose: str, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return Signer(self._secret, salt=f"digitaldock.cookie.{purpose}").unsign(value).decode()
        except BadSignature:
            return None

    def session_csrf(self, session: str) -> tuple[str, ...]:
        """The CSRF tokens of a signed-in browser, derived from its session id: the current
        key's first (forms carry it), then the old keys' (forms rendered before a rotation)."""
        return tuple(base64.urlsafe_b64encode(hmac.new(key.encode(), b"digitaldock.csrf." + session.encode(),
                                                       hashlib.sha256).digest()).rstrip(b"=").decode()
                     for key in reversed(self._secret))

    # --- API access tokens -------------------------------------------------------------------
    def access_token(self, user_id: int, role: str, minutes: int) -> str:
        now = int(self.clock())
        claims = {"sub": str(user_id), "role": role, "iat": now, "nbf": now, "exp": now + minutes * 60,
                  "iss": self.issuer, "jti": uuid.uuid4().hex, "typ": "access"}
        return jwt.encode(claims, self._jwt_secret, algorithm="HS256")

    def decode_access(self, token: str) -> dict[str, Any]:
        claims = None
        for key in self._jwt_verify:  # the current secret, then each previous one
            try:
                claims = jwt.decode(token, key, algorithms=["HS256"], issuer=self.issuer,
                                    options={"require": ["exp", "sub", "iat", "iss"], "verify_exp": False,
                                             "verify_iat": False, "verify_nbf": False})
                break
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                break
        if claims is None:
            raise NotAuthenticated("The access token is invalid.", code="invalid_token")
        if claims.get("typ") != "access" or not str(claims.get("sub", "")).isdigit():
            raise NotAuthenticated("The access token is invalid.", code="invalid_token")
        if claims["exp"] <= self.clock():
            raise NotAuthenticated("The access token has expired.", code="token_expired")
        return claims
