"""DigitalDock: a static storefront generator with a minimal dynamic checkout edge.

Shared modules live here (money, the product schema, front matter parsing, the CLI) so that
the generator, the pipelines and the checkout edge import one definition of each thing.
"""

__version__ = "0.1.0"

# One name and one tagline, shared by the static storefront and the checkout edge's pages.
SITE_NAME = "DigitalDock"
TAGLINE = "Templates, ebooks, fonts, audio and courses from independent creators."
