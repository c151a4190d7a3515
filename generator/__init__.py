"""The DigitalDock Pelican plugin: turns content/ into the static storefront.

Pelican supplies the settings, the theme's static files and the command line; this plugin
replaces Pelican's article and page generators with one storefront generator that reads
products, sellers and legal documents through the one schema (`digitaldock.schema`).
Pelican's own article machinery is switched off in pelicanconf.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from pelican import signals


class StorefrontGenerator:
    """A Pelican generator: parse everything in generate_context, write in generate_output.

    Parsing first and raising ContentError before any file is written is what keeps a broken
    product file from leaving a half-built site over a good one.
    """

    def __init__(self, context, settings, path, theme, output_path, **kwargs):
        from .site import Settings

        self.context = context
        self.settings = Settings.from_pelican(settings)
        self.output_path = Path(output_path)
        # the cache lives beside the real output; `digitaldock build` names it, since it
        # renders into a staging folder
        cache = settings.get("BUILD_CACHE_DIR")
        self.cache_dir = Path(cache) if cache else self.output_path.with_name(f".{self.output_path.name}.cache")
        self.jobs = settings.get("BUILD_JOBS")
        self.catalog = None
        self.stats = None

    def generate_context(self) -> None:
        from digitaldock.schema import ContentError, Problem, load_catalog
        from digitaldock.stats import StatsError, load_stats

        from .build import TrackingCache, load_parse_cache, without_gc

        with without_gc():
            cache = TrackingCache(load_parse_cache(self.cache_dir))
            self.catalog, _ = load_catalog(self.settings.content, cache=cache,
                                           jobs=self.jobs or os.cpu_count() or 1)
            try:
                self.catalog.stats = load_stats(self.settings.stats)
            except StatsError as exc:  # reported like a content problem; the previous site stays
                raise ContentError([Problem(str(self.settings.stats), 1, "stats", str(exc))]) from None
        self._parse_cache = cache.used() if cache.changed else None

    def generate_output(self, writer) -> None:
        from .build import render_into, save_parse_cache, without_gc

        with without_gc():
            self.stats = render_into(self.catalog, self.settings, self.output_path, self.cache_dir, self.jobs)
            if self._parse_cache is not None:
                save_parse_cache(self.cache_dir, self._parse_cache)


def _get_generators(pelican):
    # one generator for the whole storefront
    return StorefrontGenerator


def register():
    signals.get_generators.connect(_get_generators)
