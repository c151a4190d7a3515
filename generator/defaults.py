"""The storefront's Pelican settings, as a module, so an installed `digitaldock` builds the same
site with no settings file. `pelicanconf.py` in the repository imports everything from here;
`digitaldock build` without `-s` (and the edge's rebuild after an approval) uses it directly.

Values marked "env" can be overridden from the environment.
"""

import os

from digitaldock import SITE_NAME as SITENAME
from digitaldock import THEME_DIR


def urls() -> tuple[str, str]:
    """SITE_URL and CHECKOUT_URL from the environment as of now (`digitaldock serve`'s headers
    name them as the build does)."""
    return (os.environ.get("SITE_URL", "http://127.0.0.1:8000"),
            os.environ.get("CHECKOUT_URL", "http://127.0.0.1:8001"))


AUTHOR = SITENAME
SITEURL, CHECKOUT_URL = urls()  # env
PRODUCTS_PER_PAGE = int(os.environ.get("PRODUCTS_PER_PAGE", "24"))  # env

PATH = "content"
OUTPUT_PATH = "output"
THEME = str(THEME_DIR)
TIMEZONE = "UTC"
DEFAULT_LANG = "en"

PLUGIN_PATHS: list = []
PLUGINS = ["generator"]

# The storefront generator owns every page; Pelican's blog machinery is switched off.
ARTICLE_PATHS: list = []
PAGE_PATHS: list = []
DIRECT_TEMPLATES: list = []
STATIC_PATHS: list = []  # images and theme assets are copied by the plugin
THEME_STATIC_DIR = "theme"
THEME_STATIC_PATHS: list = []
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
ARTICLE_SAVE_AS = ""
PAGE_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
TAG_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
DELETE_OUTPUT_DIRECTORY = False
LOAD_CONTENT_CACHE = False
CACHE_CONTENT = False


def settings() -> dict:
    """These settings as a dict, for Pelican's `read_settings(None, override=...)`."""
    return {k: v for k, v in globals().items() if k.isupper()}
