"""`Edge`: everything one running edge shares (settings, database, clock, catalogue, hasher,
rate limiter, templates, metrics). The web app, the CLI and the tests each build one; library
functions take it as their first argument instead of reaching for globals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import sqlite_utils
from argon2 import PasswordHasher
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from . import db as dbmod
from . import passwords, product_retention
from .clock import Clock
from .errors import RateLimited
from .keyring import old_jwt_secrets, old_secret_keys
from .legal import Catalog, CatalogState
from .metrics import Metrics
from .settings import Settings
from .tokens import Tokens


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


class Edge:
    def __init__(self, settings: Settings, clock: Clock | None = None, db: sqlite_utils.Database | None = None):
        self.settings = settings
        self.clock = clock or Clock()
        self.db = db if db is not None else dbmod.connect(settings.database_path)
        self.catalog = Catalog(settings.CATALOG_PATH, settings.CONTENT_DIR)
        self.catalog.listeners.append(lambda state: product_retention.on_catalog_load(self, state))
        self.hasher: PasswordHasher = passwords.hasher(
            settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_COST, settings.ARGON2_PARALLELISM)
        self.tokens = Tokens(settings.SECRET_KEY.reveal(), settings.JWT_SECRET.reveal(), self.clock,
                             settings.CHECKOUT_URL, old_secrets=old_secret_keys(settings),
                             old_jwt_secrets=old_jwt_secrets(settings))
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.metrics = Metrics(self)
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

    @property
    def dummy_hash(self) -> str:
        """A hash to verify against for unknown emails, so timing does not reveal which exist."""
        if not hasattr(self, "_dummy_hash"):
            self._dummy_hash = self.hasher.hash("not-a-real-password-just-for-timing")
        return self._dummy_hash

    def migrate(self) -> list[str]:
        return dbmod.migrate(self.db)

    def close(self) -> None:
        self.db.conn.close()

    def legal(self) -> CatalogState:
        state = self.catalog.current()
        from . import consent
        consent.note_versions(self, state)
        return state

    def site(self) -> SiteInfo:
        state = self.catalog.current()
        from digitaldock import SITE_NAME, TAGLINE
        from digitaldock.schema import LEGAL_DOCUMENTS

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
            retry = max(1, int(reset - time.time()) + 1)
            raise RateLimited(headers={"Retry-After": str(retry)})

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir
