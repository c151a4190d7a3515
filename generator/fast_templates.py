"""Jinja rendering for the storefront build, with the two internals of Jinja and MarkupSafe it needs.

Why this module exists: the build benchmark (benchmarks/build.py, issue #4's targets) renders
about 14,000 pages for 10,000 products, and building a `Markup` object for every value a
template writes was a third of a product page's render time. Jinja's compiled templates call a
global named ``escape`` only to turn a value into the text written out (the pieces are joined
into one string at the end), so here that global is a function returning the same escaped text
as a plain ``str``. The escaping itself is MarkupSafe's C function, unchanged;
tests/generator/test_site.py renders every page both ways and compares the bytes.

What is relied on, beyond Jinja's and MarkupSafe's documented API (all pinned in
pyproject.toml; tests/generator/test_fast_templates.py fails with a message naming the
change when an upgrade alters any of it):

- ``markupsafe._speedups._escape_inner(str) -> str``: the C escaping that
  `markupsafe.escape` wraps in `Markup`. Without the C extension, `markupsafe.escape` is used
  (correct, only slower).
- ``Template.root_render_func``: the compiled render function, whose ``__globals__`` are the
  namespace the template's code was executed in, where ``escape`` is looked up. It is set in
  `Template.from_code` (public: every loader and `Environment.from_string` create templates
  through it), which `StorefrontTemplate` extends; Jinja's private ``_from_namespace`` is not
  touched.

`StorefrontEnvironment` also keeps the build's templates by name, so a page does not pay for
the loader cache's lock and bookkeeping (public API only: a subclass of `Environment`).
"""

from __future__ import annotations

from types import CodeType
from typing import Any, Callable, MutableMapping

from jinja2 import Environment, Template
from markupsafe import escape as markupsafe_escape

try:
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - MarkupSafe without its C speedups, or a new layout
    def _escape_inner(text: str) -> str:
        return str(markupsafe_escape(text))


def escape_for_output(value: Any) -> str:
    """`markupsafe.escape`, returning the escaped text as a str rather than a new Markup."""
    if value.__class__ is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape_inner(str(value))


class StorefrontTemplate(Template):
    """A template whose output escaping does not build a Markup object per value."""

    @classmethod
    def from_code(cls, environment: Environment, code: CodeType, globals: MutableMapping[str, Any],
                  uptodate: Callable[[], bool] | None = None) -> Template:
        template = super().from_code(environment, code, globals, uptodate)
        # the namespace the code ran in: the render function and every block look `escape` up here
        template.root_render_func.__globals__["escape"] = escape_for_output
        return template


class StorefrontEnvironment(Environment):
    """An environment that hands out each template by name from a plain dict.

    One environment serves one build, with `auto_reload` off, so a template never needs to
    be checked or loaded again once it is compiled.
    """

    def __init__(self, *args: Any, fast_escape: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if fast_escape:
            self.template_class = StorefrontTemplate
        self._by_name: dict[str, Template] = {}

    def template(self, name: str) -> Template:
        found = self._by_name.get(name)
        if found is None:
            found = self._by_name[name] = self.get_template(name)
        return found
