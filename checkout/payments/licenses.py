"""License keys (issue #18): one per purchase of a product with `license_keys: true`.

- **Issued** in the payment's own transaction (`issue_for_order`, called by the fulfilment),
  so a paid order always has its keys and the receipt can show them.
- **Format**: `XXXXX-XXXXX-XXXXX-XXXXX`, 20 characters drawn by `secrets` from 30 letters and
  digits that cannot be mistaken for each other when typed (no 0/O, 1/I/L, U); about 98 bits.
  Lookups accept any case and spacing (`normalize`).
- **Activations**: `activate` records an instance (a name the caller gives, an id we give
  back) until `activation_limit` active instances exist; `deactivate` frees one. The seller can
  disable a key, enable it again, or reset it (every activation deactivated).
- **Refunds disable the key** in the refund's transaction (`disable_for_line`), and the
  answers of the public API say so.
- **Keys are never logged**: log lines name the key's id, never the key.
"""

from __future__ import annotations

import secrets
from typing import Any

import structlog

from checkout.core import audit
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, Forbidden, NotFound, ValidationFailed

log = structlog.get_logger("checkout.payments.licenses")

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0 O 1 I L U
GROUPS, GROUP_LEN = 4, 5
KEY_LEN = GROUPS * GROUP_LEN + GROUPS - 1
MAX_INSTANCE_NAME = 200


def new_key() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return "-".join(raw[i:i + GROUP_LEN] for i in range(0, len(raw), GROUP_LEN))


def normalize(value: Any) -> str | None:
    """The canonical form of a key as typed (any case, spaces or dashes anywhere), or None
    when it cannot be one of ours."""
    if not isinstance(value, str) or len(value) > 100:
        return None
    raw = "".join(ch for ch in value.upper() if ch not in " -\t")
    if len(raw) != GROUPS * GROUP_LEN or any(ch not in ALPHABET for ch in raw):
        return None
    return "-".join(raw[i:i + GROUP_LEN] for i in range(0, len(raw), GROUP_LEN))


def issue_for_order(edge: Edge, order_id: int) -> list[dict[str, Any]]:
    """A key for every purchase of this order whose product asks for keys (inside the payment's
    transaction); returns [{title, product_slug, key}] for the receipt."""
    products = edge.catalog.current().products
    issued = []
    for p in edge.db.execute("SELECT p.id, p.product_slug, p.seller, l.title FROM purchases p"
                             " JOIN order_lines l ON l.id = p.order_line_id WHERE p.order_id = ? ORDER BY p.id",
                             (order_id,)).fetchall():
        product = products.get(p["product_slug"])
        if product is None or not product.license_keys:
            continue
        key = new_key()
        cur = edge.db.execute("INSERT INTO license_keys (purchase_id, product_slug, seller, license_key, activation_limit,"
                              " created_at) VALUES (?,?,?,?,?,?)",
                              (p["id"], p["product_slug"], p["seller"], key, product.license_activations,
                               edge.clock.iso()))
        log.info("license_key_issued", license_id=cur.lastrowid, product=p["product_slug"])
        issued.append({"title": p["title"], "product_slug": p["product_slug"], "key": key})
    return issued


def disable_for_line(edge: Edge, order_line_id: int, reason: str = "refunded") -> None:
    """A refunded purchase's key stops working (inside the refund's transaction)."""
    edge.db.execute("UPDATE license_keys SET disabled_at = COALESCE(disabled_at, ?), disabled_reason = ?"
                    " WHERE purchase_id = (SELECT id FROM purchases WHERE order_line_id = ?)",
                    (edge.clock.iso(), reason, order_line_id))


def for_purchases(edge: Edge, purchase_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{purchase id: key row with `active` activations} for the library."""
    if not purchase_ids:
        return {}
    marks = ",".join("?" * len(purchase_ids))
    return {r["purchase_id"]: dict(r) for r in edge.db.execute(
        "SELECT k.*, (SELECT COUNT(*) FROM license_activations a WHERE a.license_id = k.id"
        f" AND a.deactivated_at IS NULL) AS active FROM license_keys k WHERE k.purchase_id IN ({marks})",
        purchase_ids)}


def for_order(edge: Edge, order_id: int) -> list[dict[str, Any]]:
    """The keys of an order's purchases, for its thank-you page."""
    return [dict(r) for r in edge.db.execute(
        "SELECT k.license_key AS key, l.title, k.disabled_at FROM license_keys k JOIN purchases p ON p.id = k.purchase_id"
        " JOIN order_lines l ON l.id = p.order_line_id WHERE p.order_id = ? ORDER BY k.id", (order_id,))]


# --- the public API: verify, activate, deactivate ---------------------------------------------

def _lookup(edge: Edge, product: Any, key: Any) -> dict[str, Any]:
    if not isinstance(product, str) or not product or len(product) > 80:
        raise ValidationFailed(fields={"product": "must be the product's slug"})
    if not isinstance(key, str) or not key:
        raise ValidationFailed(fields={"license_key": "must be a license key such as ABCDE-FGHJK-MNPQR-STVWX"})
    canonical = normalize(key)
    row = None if canonical is None else edge.db.execute(
        "SELECT k.*, p.status AS purchase_status, p.created_at AS bought_at, o.reference, u.email"
        " FROM license_keys k JOIN purchases p ON p.id = k.purchase_id JOIN orders o ON o.id = p.order_id"
        " JOIN users u ON u.id = p.user_id WHERE k.license_key = ?", (canonical,)).fetchone()
    if row is None or row["product_slug"] != product:
        # the same answer whether the key exists for another product or not at all
        raise NotFound("That license key is not valid for this product.", code="license_not_found")
    return dict(row)


def _state(edge: Edge, row: dict[str, Any]) -> dict[str, Any]:
    active = edge.db.execute("SELECT COUNT(*) FROM license_activations WHERE license_id = ? AND deactivated_at IS NULL",
                             (row["id"],)).fetchone()[0]
    limit = row["activation_limit"]
    refunded = row["purchase_status"] != "active"
    disabled = row["disabled_at"] is not None
    return {"valid": not refunded and not disabled, "product": row["product_slug"], "refunded": refunded,
            "disabled": disabled, "activations": active, "activation_limit": limit,
            "limit_reached": limit is not None and active >= limit, "purchased_at": row["bought_at"],
            "order": row["reference"]}


def verify(edge: Edge, product: Any, key: Any) -> dict[str, Any]:
    """What a seller's software asks: is this key good for this product, and why not."""
    return _state(edge, _lookup(edge, product, key))


def _instance_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_INSTANCE_NAME:
        raise ValidationFailed(fields={"instance_name": f"must be a name of 1–{MAX_INSTANCE_NAME} characters"})
    name = value.strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationFailed(fields={"instance_name": "must not contain control characters"})
    return name


def activate(edge: Edge, product: Any, key: Any, instance_name: Any) -> dict[str, Any]:
    """Record one more instance, unless the key is refunded, disabled or at its limit (409)."""
    name = _instance_name(instance_name)
    with atomic(edge.db):
        row = _lookup(edge, product, key)
        state = _state(edge, row)
        if state["refunded"]:
            raise Conflict("This purchase was refunded: its license key no longer works.", code="license_refunded")
        if state["disabled"]:
            raise Conflict("This license key has been disabled by the seller.", code="license_disabled")
        if state["limit_reached"]:
            raise Conflict(f"This license key is already active on {state['activations']} of "
                           f"{state['activation_limit']} allowed instances; deactivate one first.",
                           code="activation_limit_reached")
        instance = "ins_" + secrets.token_urlsafe(16)
        edge.db.execute("INSERT INTO license_activations (license_id, instance_id, instance_name, created_at)"
                        " VALUES (?,?,?,?)", (row["id"], instance, name, edge.clock.iso()))
        log.info("license_activated", license_id=row["id"])
        state = _state(edge, row)
    return {**state, "instance": {"id": instance, "name": name}}


def deactivate(edge: Edge, product: Any, key: Any, instance_id: Any) -> dict[str, Any]:
    """Free one instance of the key (works on a refunded or disabled key too, so software can
    clean up)."""
    if not isinstance(instance_id, str) or not instance_id or len(instance_id) > 100:
        raise ValidationFailed(fields={"instance_id": "must be the id activate returned"})
    with atomic(edge.db):
        row = _lookup(edge, product, key)
        cur = edge.db.execute("UPDATE license_activations SET deactivated_at = ? WHERE license_id = ?"
                              " AND instance_id = ? AND deactivated_at IS NULL", (edge.clock.iso(), row["id"], instance_id))
        if not cur.rowcount:
            raise NotFound("There is no active instance with that id for this key.", code="instance_not_found")
        log.info("license_deactivated", license_id=row["id"])
        return _state(edge, row)


# --- the seller's view -------------------------------------------------------------------------

def of_sellers(edge: Edge, sellers: list[str], limit: int = 500) -> list[dict[str, Any]]:
    """The keys of these sellers' products, newest first, with the buyer and activations."""
    if not sellers:
        return []
    marks = ",".join("?" * len(sellers))
    keys = [dict(r) for r in edge.db.execute(
        "SELECT k.*, u.email, o.reference, p.status AS purchase_status FROM license_keys k"
        " JOIN purchases p ON p.id = k.purchase_id JOIN users u ON u.id = p.user_id JOIN orders o ON o.id = p.order_id"
        f" WHERE k.seller IN ({marks}) ORDER BY k.id DESC LIMIT ?", (*sellers, limit))]
    if keys:
        ids = [k["id"] for k in keys]
        acts: dict[int, list[dict[str, Any]]] = {}
        for a in edge.db.execute(f"SELECT * FROM license_activations WHERE license_id IN ({','.join('?' * len(ids))})"
                                 " ORDER BY id", ids):
            acts.setdefault(a["license_id"], []).append(dict(a))
        for k in keys:
            k["activations"] = acts.get(k["id"], [])
            k["active"] = sum(1 for a in k["activations"] if a["deactivated_at"] is None)
    return keys


def seller_action(edge: Edge, actor_id: int, sellers: list[str], license_id: int, action: str) -> str:
    """`disable`, `enable` or `reset` (deactivate every instance) one of the seller's keys."""
    if action not in ("disable", "enable", "reset"):
        raise ValidationFailed(fields={"action": "must be disable, enable or reset"})
    with atomic(edge.db):
        row = edge.db.execute("SELECT k.*, p.status AS purchase_status FROM license_keys k"
                              " JOIN purchases p ON p.id = k.purchase_id WHERE k.id = ?", (license_id,)).fetchone()
        if row is None or row["seller"] not in sellers:
            raise Forbidden("That license key is not one of your products'.", code="not_your_license")
        now = edge.clock.iso()
        if action == "disable":
            edge.db.execute("UPDATE license_keys SET disabled_at = ?, disabled_reason = 'seller' WHERE id = ?"
                            " AND disabled_at IS NULL", (now, license_id))
        elif action == "enable":
            if row["purchase_status"] != "active":
                raise Conflict("This purchase was refunded; its key cannot be enabled again.", code="license_refunded")
            edge.db.execute("UPDATE license_keys SET disabled_at = NULL, disabled_reason = NULL WHERE id = ?",
                            (license_id,))
        else:
            edge.db.execute("UPDATE license_activations SET deactivated_at = ? WHERE license_id = ?"
                            " AND deactivated_at IS NULL", (now, license_id))
            edge.db.execute("UPDATE license_keys SET reset_at = ? WHERE id = ?", (now, license_id))
        audit.record(edge, f"license.{action}", actor_id=actor_id, license_id=license_id)
    return action
