"""The Jinja and MarkupSafe internals generator/fast_templates.py relies on still have their shape.

Each failure says which assumption broke after an upgrade of Jinja2 or MarkupSafe: the build
would still be correct (or fail at once), but silently slower, or escape through a function
that no longer matches MarkupSafe's. Fix fast_templates.py, or drop the shortcut and measure
the build benchmark.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import markupsafe
import pytest
from jinja2 import DictLoader, Template
from markupsafe import Markup

from generator import fast_templates
from generator.fast_templates import StorefrontEnvironment, StorefrontTemplate, escape_for_output

SAMPLES = ["", "plain", "<script>alert('x') & \"y\"</script>", "'''", "&amp; already", "naïve café ü€𝄞",
           "\x00\t\n", "a" * 5000 + "<" + "é" * 5000]

WHO = f"(Jinja2 {version('Jinja2')}, MarkupSafe {version('MarkupSafe')})"


def test_markupsafe_still_has_its_c_escape_function():
    try:
        from markupsafe._speedups import _escape_inner
    except ImportError:
        pytest.fail(f"markupsafe._speedups._escape_inner is gone {WHO}: fast_templates now escapes "
                    "through markupsafe.escape (correct, slower); update it or drop the shortcut")
    assert fast_templates._escape_inner is _escape_inner, "fast_templates is not using the C function"
    for text in SAMPLES:
        out = _escape_inner(text)
        assert type(out) is str, f"_escape_inner now returns {type(out).__name__}, not str {WHO}"
        assert out == str(markupsafe.escape(text)), f"_escape_inner no longer escapes like markupsafe.escape {WHO}"


@pytest.mark.parametrize("value", [*SAMPLES, Markup("<b>kept</b>"), 42, 1.5, None, ["<x>"]])
def test_escape_for_output_is_markupsafe_escape_as_str(value):
    assert escape_for_output(value) == str(markupsafe.escape(value))
    assert type(escape_for_output(value)) is str or hasattr(value, "__html__")


def test_templates_are_still_made_by_from_code():
    params = list(inspect.signature(Template.from_code).parameters)
    assert params == ["environment", "code", "globals", "uptodate"], (
        f"Template.from_code's signature changed to {params} {WHO}: update StorefrontTemplate")
    env = StorefrontEnvironment(loader=DictLoader({"page.html": "{{ x }}{% block b %}{{ y }}{% endblock %}"}),
                                autoescape=True)
    for template in (env.get_template("page.html"), env.from_string("{{ x }}")):
        assert type(template) is StorefrontTemplate, (
            f"Jinja no longer builds templates through template_class.from_code {WHO}")
        assert template.root_render_func.__globals__["escape"] is escape_for_output, (
            f"Template.root_render_func.__globals__ is no longer the template's namespace {WHO}")


def test_compiled_templates_still_escape_through_the_escape_global():
    env = StorefrontEnvironment(autoescape=True)
    source = env.compile("{{ x }}{% block b %}{{ y }}{% endblock %}", raw=True)
    assert "escape(" in source, f"compiled templates no longer call a global named escape {WHO}"
    calls = []
    template = env.from_string("{{ x }}{% block b %}{{ y }}{% endblock %}")

    def counting(value):
        calls.append(value)
        return escape_for_output(value)

    for fn in (template.root_render_func, *template.blocks.values()):
        fn.__globals__["escape"] = counting
    assert template.render(x="<a>", y=Markup("<b>")) == "&lt;a&gt;<b>"
    assert calls == ["<a>", Markup("<b>")], f"output no longer goes through the escape global {WHO}"


def test_plain_environment_is_plain_jinja():
    env = StorefrontEnvironment(autoescape=True, fast_escape=False)
    template = env.from_string("{{ x }}")
    assert type(template) is Template
    assert template.root_render_func.__globals__["escape"] is markupsafe.escape
    assert template.render(x="<&>") == "&lt;&amp;&gt;"


def test_templates_by_name_are_compiled_once():
    env = StorefrontEnvironment(loader=DictLoader({"a.html": "A"}), auto_reload=False)
    assert env.template("a.html") is env.template("a.html")
    assert env.template("a.html").render() == "A"
