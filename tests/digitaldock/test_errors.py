"""Every error of the shared modules has one root, `DigitalDockError`, whose docstring names it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import digitaldock
from digitaldock.errors import DigitalDockError


def public_errors(package) -> dict[str, type[BaseException]]:
    """Every public exception class defined in the package's modules, by qualified name."""
    found = {}
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__
                    and not name.startswith("_")):
                found[f"{module.__name__}.{name}"] = obj
    return found


def test_every_error_has_the_root_and_is_documented_on_it():
    errors = public_errors(digitaldock)
    assert {"digitaldock.money.MoneyError", "digitaldock.frontmatter.FrontMatterError",
            "digitaldock.schema.ContentError", "digitaldock.storage.StorageError",
            "digitaldock.storage.NotFound"} <= set(errors)
    for name, cls in errors.items():
        assert issubclass(cls, DigitalDockError), f"{name} does not derive from DigitalDockError"
        if cls is not DigitalDockError:
            assert f"`{name}`" in DigitalDockError.__doc__, f"DigitalDockError's docstring does not say when {name} is raised"


def test_value_errors_stay_value_errors():
    from digitaldock.frontmatter import FrontMatterError
    from digitaldock.money import MoneyError, parse_amount

    assert issubclass(MoneyError, ValueError) and issubclass(FrontMatterError, ValueError)
    with pytest.raises(DigitalDockError) as caught:
        parse_amount("1.234", "USD")
    assert caught.type is MoneyError
