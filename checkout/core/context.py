"""`Edge`: everything one running edge shares (settings, database, clock, catalogue, hasher,
rate limiter, templates, metrics, extension points). The web app, the CLI and the tests each
build one (through `checkout.wiring.build_edge`, which registers the built-in hooks); library
functions take it as their first argument instead of reaching for globals.

This module is the floor of the house: it imports nothing from any package above `core`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jinja2
import sqlite_utils
from argon2 import PasswordHasher, Type
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from checkout.core import db as database
from checkout.core.catalog import Catalog, CatalogState
from checkout.core.clock import Clock
from checkout.core.errors import RateLimited
from checkout.core.hooks import Hooks
from checkout.core.keyring import old_jwt_secrets, old_secret_keys
from checkout.core.metrics import Metrics
from checkout.core.settings import Settings
from checkout.core.tokens import Tokens
from digitaldock import SITE_NAME, TAGLINE
from digitaldock.money import Money, format_money
from digitaldock.schema import LEGAL_DOCUMENTS

T = TypeVar("T")


@dataclass
class SiteInfo:
    """The `site` object the theme's base.html expects."""
    name: str
    tagline: str
    url: str
    assets: str
    checkout_url: str
    categories: list[Any] = field(default_factory=list)
    legal: list[Any] = field(default_factory=list)


def money_filter(value: Money | int | None, currency: str | None = None) -> str:
    """`{{ line.price | money }}` or `{{ minor | money(currency) }}`: the one way amounts are shown."""
    if value is None:
        return ""
    if isinstance(value, Money):
        return value.display()
    return format_money(int(value), str(currency))


class Edge:
    def __init__(self, settings: Settings, clock: Clock | None = None, db: sqlite_utils.Database | None = None,
                 hooks: Hooks | None = None):
        self.settings = settings
        self.clock = clock or Clock()
        self.hooks = hooks if hooks is not None else Hooks()
        self.db = db if db is not None else database.connect(settings.database_path)
        self.catalog = Catalog(settings.CATALOG_PATH, settings.CONTENT_DIR)
        for listener in self.hooks.catalog_listeners:
            self.catalog.listeners.append(lambda state, listener=listener: listener(self, state))
        # argon2id; production uses argon2-cffi's RFC 9106 low-memory profile, tests cheaper ones
        self.hasher = PasswordHasher(time_cost=settings.ARGON2_TIME_COST, memory_cost=settings.ARGON2_MEMORY_COST,
                                     parallelism=settings.ARGON2_PARALLELISM, hash_len=32, salt_len=16, type=Type.ID)
        # per-edge services built on first use (storage client, Paystack client, link signer...)
        self.services: dict[str, Any] = {}
        self.tokens = Tokens(settings.SECRET_KEY.reveal(), settings.JWT_SECRET.reveal(), self.clock,
                             settings.CHECKOUT_URL, old_secrets=old_secret_keys(settings),
                             old_jwt_secrets=old_jwt_secrets(settings))
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.metrics = Metrics(self._outbox_depth)
        # set by SIGUSR1 (`digitaldock deploy`): the proxy's health check (/readyz?scope=proxy)
        # answers 503, so new requests go to the other edge while this one serves what it has
        self.draining = False
        theme = settings.theme_dir
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(theme / "templates")),
            autoescape=jinja2.select_autoescape(("html", "xml"), default_for_string=True, default=False),
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        # the edge serves the theme's files itself at /theme/, under their plain names
        self.templates.filters["asset"] = lambda path: f"/theme/{path}"
        self.templates.filters["money"] = money_filter

    @property
    def dummy_hash(self) -> str:
        """A hash to verify against for unknown emails, so timing does not reveal which exist."""
        if not hasattr(self, "_dummy_hash"):
            self._dummy_hash = self.hasher.hash("not-a-real-password-just-for-timing")
        return self._dummy_hash

    def service(self, name: str, build: Callable[[], T]) -> T:
        """The edge's one `name` (a storage client, a signer...), built by `build` the first time."""
        found = self.services.get(name)
        if found is None:
            found = self.services[name] = build()
        return found

    def _outbox_depth(self) -> float:
        row = self.db.execute("SELECT COUNT(*) FROM outbox WHERE status IN ('pending','sending')").fetchone()
        return float(row[0])

    def migrate(self) -> list[str]:
        return database.migrate(self.db)

    def close(self) -> None:
        self.db.conn.close()

    def legal(self) -> CatalogState:
        return self.catalog.current()

    def site(self) -> SiteInfo:
        state = self.catalog.current()
        order = list(LEGAL_DOCUMENTS)  # the footer lists them in the storefront's order
        return SiteInfo(SITE_NAME, TAGLINE, self.settings.SITE_URL,
                        "", self.settings.CHECKOUT_URL, list(state.categories),
                        sorted(state.legal.values(),
                               key=lambda d: order.index(d.slug) if d.slug in order else len(order)))

    def render(self, template: str, **context: Any) -> str:
        context.setdefault("site", self.site())
        return self.templates.get_template(template).render(**context)

    def hit(self, limit_setting: str, *keys: str) -> None:
        """Count one attempt against a rate limit; raise RateLimited when exhausted."""
        item = parse(getattr(self.settings, limit_setting))
        if not self.limiter.hit(item, limit_setting, *keys):
            reset, _ = self.limiter.get_window_stats(item, limit_setting, *keys)
            retry = max(1, reset - time.time())
            raise RateLimited.after(retry)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir
