"""Signing keys with rotation: which keys sign and which still verify.

Settings list keys **newest first** (`DOWNLOAD_SECRET_KEYS=new,old`, `SECRET_KEYS_OLD=previous,older`)
because that is how people read them; itsdangerous wants a list ordered **oldest first** and
signs with the last one. The functions here turn one order into the other, so no caller has to
remember which end signs.

- Email links, session and CSRF cookies: `SECRET_KEY` signs, `SECRET_KEY` and every key in
  `SECRET_KEYS_OLD` verify.
- API access tokens: `JWT_SECRET` signs, it and every key in `JWT_SECRETS_OLD` verify.
- Download links: the first key of `DOWNLOAD_SECRET_KEYS` signs and every listed key verifies;
  with the setting empty they use the email-link keys above, as before the setting existed.
"""

from __future__ import annotations

from typing import Any


def split_keys(value: Any) -> list[str]:
    """The keys of a comma-separated setting (a Secret or a string), newest first, blanks dropped."""
    raw = value.reveal() if hasattr(value, "reveal") else str(value or "")
    return [k.strip() for k in raw.split(",") if k.strip()]


def old_secret_keys(settings: Any) -> list[str]:
    """Previous SECRET_KEY values that still verify, newest first (never the current key)."""
    current = settings.SECRET_KEY.reveal()
    return [k for k in split_keys(settings.SECRET_KEYS_OLD) if k != current]


def old_jwt_secrets(settings: Any) -> list[str]:
    """Previous JWT_SECRET values that still verify API access tokens, newest first."""
    current = settings.JWT_SECRET.reveal()
    return [k for k in split_keys(settings.JWT_SECRETS_OLD) if k != current]


def verification_order(newest_first: list[str]) -> list[str]:
    """The list itsdangerous takes: oldest first, so the newest (last) key signs."""
    seen: list[str] = []
    for key in newest_first:
        if key not in seen:
            seen.append(key)
    return list(reversed(seen))


def secret_keys(settings: Any) -> list[str]:
    """Keys for email links and cookies in itsdangerous order (the last, SECRET_KEY, signs)."""
    return verification_order([settings.SECRET_KEY.reveal(), *old_secret_keys(settings)])


def download_keys(settings: Any) -> list[str]:
    """Keys for download links in itsdangerous order (the last signs)."""
    listed = split_keys(settings.DOWNLOAD_SECRET_KEYS)
    if not listed:
        return secret_keys(settings)
    return verification_order(listed)
