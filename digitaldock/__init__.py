"""DigitalDock: a static storefront generator with a minimal dynamic checkout edge.

Shared modules live here (money, the product schema, front matter parsing, the CLI) so that
the generator, the pipelines and the checkout edge import one definition of each thing.
"""

from pathlib import Path

__version__ = "0.1.0"

# The theme: Jinja templates and static files shared by the static storefront and the edge's
# own pages. It ships inside the package, so an installed wheel has it too.
THEME_DIR = Path(__file__).resolve().parent / "theme"

# One name and one tagline, shared by the static storefront and the checkout edge's pages.
SITE_NAME = "DigitalDock"
TAGLINE = "Templates, ebooks, fonts, audio and courses from independent creators."
