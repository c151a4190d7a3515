"""Pelican settings for production: the public URLs. Used by CI before `digitaldock publish`."""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: E402,F401,F403

SITEURL = os.environ.get("SITE_URL", "https://digitaldock.example")
CHECKOUT_URL = os.environ.get("CHECKOUT_URL", "https://checkout.digitaldock.example")
PRICES_INCLUDE_TAX = os.environ.get("PRICES_INCLUDE_TAX", "")  # the edge's setting: product pages say which
