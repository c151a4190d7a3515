"""A lively demo store for `digitaldock seed`: buyers who paid, and the reviews they wrote, made
through the code paths a real buyer takes (no YAML, no inserted numbers).

Each demo buyer is an account (`users.create_user`), each purchase an order priced from the
catalogue (`orders.create_order`), initialised at Paystack (the local sandbox), paid there by
`pay` (the sandbox's pay button, given by the caller) and verified through Paystack's API
(`charges.verify_and_apply`, the callback's and the reconciler's path). Each review goes through
`reviews.create`; the ones moderation holds (new accounts) are approved by the demo admin
through `reviews.approve`, as an admin would. Running it again adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from checkout.accounts import users
from checkout.core.catalog import required_documents
from checkout.core.context import Edge
from checkout.payments import charges, orders
from checkout.reviews import reviews

BUYERS = ("amara", "bayo", "chidi", "dami", "efe", "funmi")
SAYINGS = (
    (5, "Exactly what I needed", "Clear, well made and easy to use from the first minute."),
    (4, "Very good", "Does the job well. A couple of things took me a while to find."),
    (5, "Worth every kobo", "I use it every week now."),
    (3, "Decent", "Fine for the price; I expected a little more."),
    (4, "Solid", "Good quality files and quick to download."),
    (2, "Not for me", "Well made, but not what I was looking for."),
)
MAX_PRODUCTS = 8


def seed_store(edge: Edge, admin: Any, password_hash: str, pay: Callable[[str], None]) -> dict[str, int]:
    """Demo buyers, their purchases and reviews; returns what was made (nothing on a second run)."""
    state = edge.legal()
    docs = [state.legal[s] for s in required_documents("buyer") if s in state.legal]
    products = sorted((p for p in edge.catalog.current().products.values() if not p.withdrawn),
                      key=lambda p: p.slug)[:MAX_PRODUCTS]
    made = {"buyers": 0, "purchases": 0, "reviews": 0}
    if not products:
        return made
    for i, name in enumerate(BUYERS):
        email = f"{name}@example.com"
        if users.get_by_email(edge, email):
            continue
        uid = users.create_user(edge, email, name.title(), "buyer", password_hash, docs, verified=True,
                                send_verification=False, actor_id=0)
        user = dict(users.get_user(edge, uid))
        made["buyers"] += 1
        chosen = [p for j, p in enumerate(products) if (i + j) % 3 != 0]
        mine = []
        for currency in sorted({p.price.currency for p in chosen}):  # one order per currency, as a cart must
            basket = [p for p in chosen if p.price.currency == currency]
            order = orders.create_order(edge, user, [(p.slug, None) for p in basket])
            orders.record_authorization(edge, order, orders.call_initialize(edge, order))
            pay(order["reference"])
            charges.verify_and_apply(edge, order["reference"], "verify")
            # the sandbox's webhook may reach the running edge first: what counts is that it is paid
            if orders.get_order(edge, order["reference"])["status"] == "paid":
                mine += basket
        made["purchases"] += len(mine)
        for j, product in enumerate(mine):
            if (i * 5 + j) % 4 == 3:
                continue  # not every buyer reviews everything
            rating, title, body = SAYINGS[(i * 7 + j * 3) % len(SAYINGS)]
            row = reviews.create(edge, user, product.slug, rating, title, body)
            if row["status"] == "pending":
                reviews.approve(edge, admin, row["id"])
            made["reviews"] += 1
    return made
