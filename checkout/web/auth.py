"""Who is asking: one authentication path for pages and the API.

Starlette's `AuthenticationMiddleware` runs `EdgeAuthBackend` on every request. The backend
looks at one credential, chosen by where the request goes:

- pages (everything outside `/api/`): the signed session cookie;
- the API (`/api/...`): an `Authorization: Bearer` token, either a first-party JWT access token
  or a personal access token (`ddp_...`, issue #21) that carries scopes. The session cookie only for
  the few read-only JSON endpoints the static storefront calls from the browser
  (`STOREFRONT_JSON`, GET and HEAD): the API is exempt from CSRF tokens, and a cookie is sent
  by the browser whether or not the page asking was ours.

Nothing is read from the database until a handler asks (`request.user`, `request.auth`): the
backend hands out lazy objects, so `/healthz`, the theme's files and webhooks never touch a
session row.

Routes say what they need with `@requires(...)`, built on the same `request.user`:
`@requires()` for any signed-in user, `@requires("admin")`, `@requires("seller", "admin")`.
It sends a browser to the sign-in page (or the consent page when a legal document changed)
and answers an API client 401/403 with a stable error code.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser, UnauthenticatedUser
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from checkout.accounts import api_tokens, consent, sessions, users
from checkout.accounts.errors import ConsentRequired
from checkout.core.errors import Forbidden, NotAuthenticated
from checkout.web.base import Redirect, edge_of

SESSION_COOKIE = "dd_session"
SAFE_METHODS = ("GET", "HEAD")
STOREFRONT_JSON = ("/api/cart/summary", "/api/wishlist/saved")  # read by the static site's script, with the cookie
PERSONAL_TOKEN_PATHS = "/api/v1/"  # where a personal access token is accepted (its scopes are checked there)


class EdgeUser(BaseUser):
    """A signed-in account. `user["id"]` reads a column of the `users` row, as before."""

    def __init__(self, row: Any, via: str, session_id: str | None = None,
                 token_scopes: tuple[str, ...] | None = None):
        self.row = row
        self.via = via  # "session", "token" (JWT) or "personal" (a personal access token)
        self.session_id = session_id
        self.token_scopes = token_scopes  # a personal token's scopes; None: everything the role allows

    def may(self, scope: str) -> bool:
        """Whether this credential grants `scope` (`read:sales`...). Sessions and first-party JWTs
        act with the whole role; a personal access token only with the scopes it was given."""
        return self.token_scopes is None or api_tokens.scope_allows(self.token_scopes, scope)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return str(self.row["display_name"])

    @property
    def identity(self) -> str:
        return str(self.row["id"])

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def role(self) -> str:
        return str(self.row["role"])

    def __getitem__(self, key: str) -> Any:
        return self.row[key]

    def scopes(self) -> list[str]:
        roles = {"admin": ["admin", "seller"], "seller": ["seller"]}.get(self.role, [])
        return ["authenticated", self.role, *roles]


class _Lazy:
    """Resolves a connection's user once, on first use."""

    def __init__(self, conn: HTTPConnection):
        self.conn = conn
        self._user: BaseUser | None = None

    def user(self) -> BaseUser:
        if self._user is None:
            self._user = _resolve(self.conn)
        return self._user

    def forget(self) -> None:
        """The account just signed out or was disabled: this request continues as a guest."""
        self._user = UnauthenticatedUser()


class LazyUser(BaseUser):
    """`request.user`: the signed-in account, looked up the first time anything is asked of it."""

    def __init__(self, lazy: _Lazy):
        self._lazy = lazy

    @property
    def is_authenticated(self) -> bool:
        return self._lazy.user().is_authenticated

    @property
    def display_name(self) -> str:
        return self._lazy.user().display_name

    @property
    def identity(self) -> str:
        return self._lazy.user().identity

    def resolved(self) -> EdgeUser | None:
        found = self._lazy.user()
        return found if isinstance(found, EdgeUser) else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lazy.user(), name)

    def __getitem__(self, key: str) -> Any:
        found = self.resolved()
        if found is None:
            raise KeyError(key)
        return found[key]


class LazyCredentials(AuthCredentials):
    """`request.auth`: the scopes of the signed-in account, computed on first use."""

    def __init__(self, lazy: _Lazy):  # no super().__init__: `scopes` is computed
        self._lazy = lazy

    @property  # type: ignore[override]
    def scopes(self) -> list[str]:
        found = self._lazy.user()
        return found.scopes() if isinstance(found, EdgeUser) else []


class EdgeAuthBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser]:
        lazy = _Lazy(conn)
        conn.scope["dd_auth"] = lazy
        return LazyCredentials(lazy), LazyUser(lazy)


def _is_api(conn: HTTPConnection) -> bool:
    return conn.scope.get("path", "").startswith("/api/")


def session_raw(conn: HTTPConnection) -> str | None:
    """The raw session id from the signed cookie, or None."""
    return edge_of(conn).tokens.unsign_cookie("session", conn.cookies.get(SESSION_COOKIE))  # type: ignore[arg-type]


def _resolve(conn: HTTPConnection) -> BaseUser:
    edge = edge_of(conn)  # type: ignore[arg-type]
    if _is_api(conn):
        header = conn.headers.get("authorization", "")
        if header:
            client = conn.scope.get("client")
            return _from_token(edge, header, client[0] if client else None)
        if conn.scope.get("method") not in SAFE_METHODS or conn.scope.get("path") not in STOREFRONT_JSON:
            return UnauthenticatedUser()
    found = sessions.load_session(edge, session_raw(conn))
    if found is None:
        return UnauthenticatedUser()
    session, row = found
    return EdgeUser(row, "session", session["id"])


def _from_token(edge: Any, header: str, ip: str | None = None) -> BaseUser:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send an access token as 'Authorization: Bearer <token>'.",
                               headers={"WWW-Authenticate": "Bearer"})
    if token.strip().startswith(api_tokens.PAT_PREFIX):
        row, scopes = api_tokens.authenticate_personal(edge, token.strip(), ip)
        return EdgeUser(row, "personal", token_scopes=scopes)
    claims = edge.tokens.decode_access(token.strip())
    row = users.get_user(edge, int(claims["sub"]))
    if row is not None and row["banned_at"] is not None:
        raise NotAuthenticated("This account has been suspended.", code="account_banned")
    if not users.is_active(row):
        raise NotAuthenticated("This account is disabled.", code="account_disabled")
    return EdgeUser(row, "token")


def forget(request: Request) -> None:
    """Continue this request as a guest (after signing out or disabling the account)."""
    lazy = request.scope.get("dd_auth")
    if isinstance(lazy, _Lazy):
        lazy.forget()


def user_or_none(request: Request) -> EdgeUser | None:
    """The signed-in account, or None for a guest."""
    found = request.user
    if isinstance(found, LazyUser):
        return found.resolved()
    return found if isinstance(found, EdgeUser) else None


def authorize(request: Request, roles: tuple[str, ...] = (), *, consent_first: bool = True,
              forbidden: str = "You are not allowed to do that.", forbidden_code: str = "forbidden",
              next_url: str | None = None, api: bool | None = None,
              unauthenticated: str = "Send an access token as 'Authorization: Bearer <token>'.") -> EdgeUser:
    """The signed-in account if it may go on; otherwise the error that tells it what to do.

    Browsers are redirected (to sign in, or to accept changed legal documents first and come
    back to `next_url`); API clients get 401/403 with a stable code and, for consent, the
    documents to accept. `api` forces one way or the other (the streaming upload endpoint is
    not under /api/ but answers like the API).
    """
    user = user_or_none(request)
    api = _is_api(request) if api is None else api
    back = next_url or request.url.path
    if user is None:
        if api:
            raise NotAuthenticated(unauthenticated, headers={"WWW-Authenticate": "Bearer"})
        raise Redirect("/login?next=" + quote(back, safe="/"))
    if user.via == "personal" and not request.url.path.startswith(PERSONAL_TOKEN_PATHS):
        raise Forbidden("Personal access tokens work on /api/v1/ only; this endpoint takes a first-party token.",
                        code="insufficient_scope")
    if roles and not set(roles) & set(user.scopes()):
        raise Forbidden(forbidden, code=forbidden_code)
    if consent_first:
        todo = consent.outstanding(edge_of(request), user)
        if todo:
            if api:
                raise ConsentRequired(extra={"documents": [
                    {"slug": d.slug, "title": d.title, "version": d.version, "url": d.url} for d in todo]})
            raise Redirect("/account/consent?next=" + quote(back, safe="" if next_url else "/"))
    return user


def require_scope(request: Request, scope: str) -> None:
    """403 `insufficient_scope` when the request's personal access token lacks `scope`."""
    user = user_or_none(request)
    if user is not None and not user.may(scope):
        raise Forbidden(f"This token lacks the scope {scope}; create a token that has it.",
                        code="insufficient_scope", extra={"needed_scope": scope})


Handler = Callable[[Request], Awaitable[Response]]


def requires(*roles: str, consent: bool = True, forbidden: str = "You are not allowed to do that.",
             forbidden_code: str = "forbidden") -> Callable[[Handler], Handler]:
    """Route decorator: a signed-in account (with one of `roles`, when given) that has accepted
    the current legal documents (unless `consent=False`); the handler reads `request.user`."""
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request) -> Response:
            authorize(request, roles, consent_first=consent, forbidden=forbidden, forbidden_code=forbidden_code)
            return await handler(request)
        return wrapper
    return decorate
