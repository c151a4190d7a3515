"""What the Paystack account behind the edge can do, for `digitaldock doctor`: whether it
answers, test or live key, the currencies it accepts (`GET /balance` lists one balance per
currency enabled on the account), which of them it can pay sellers out in, and the catalogue's
currencies it would refuse at checkout (buyers would read "we cannot take payments in …").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from checkout.core.context import Edge
from checkout.payments.errors import PaystackError
from checkout.payments.orders import paystack
from checkout.payments.paystack import TRANSFER_CURRENCIES


def report(edge: "Edge") -> dict[str, Any]:
    """One call to Paystack; `problems` lists what stops sales or payouts."""
    key = edge.settings.PAYSTACK_SECRET_KEY.reveal()
    client = paystack(edge)
    out: dict[str, Any] = {"api": urlsplit(edge.settings.PAYSTACK_BASE_URL).netloc,
                           "mode": "live" if key.startswith("sk_live_") else "test",
                           "circuit": client.breaker.state, "problems": []}
    selling = sorted({p.price.currency for p in edge.catalog.current().products.values()})
    out["catalogue_currencies"] = selling
    try:
        balances = client.balances()
    except PaystackError as exc:
        out.update(reachable=exc.paystack_status is not None, currencies=None)
        out["problems"].append(f"Paystack did not list the account's currencies: {exc.message}")
        return out
    accepted = sorted({str(b.get("currency")) for b in balances or [] if isinstance(b, dict) and b.get("currency")})
    out.update(reachable=True, currencies=accepted,
               payout_currencies=[c for c in accepted if c in TRANSFER_CURRENCIES])
    for currency in selling:
        if currency not in accepted:
            out["problems"].append(f"the catalogue sells in {currency}, which the Paystack account does not accept: "
                                   f"buyers are refused at checkout (enable it in the Paystack dashboard)")
    return out
