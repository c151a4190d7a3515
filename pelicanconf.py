"""Pelican settings for the DigitalDock storefront (development).

`digitaldock build` and plain `pelican -s pelicanconf.py` both read this file, so they give
the same site. The values live in `generator/defaults.py` (an installed `digitaldock` builds
with them when there is no settings file); override any of them below this line.
"""

from generator.defaults import *  # noqa: F401,F403
