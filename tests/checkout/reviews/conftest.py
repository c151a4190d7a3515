"""Reviews run on the shop's fixtures: a catalogue that sells, the Paystack sandbox, buyers."""

from __future__ import annotations

from ..payments.conftest import catalog_path, sandbox, shop  # noqa: F401 - fixtures shared with payments
