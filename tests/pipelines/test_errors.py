"""Every error of the pipeline commands has one root, `PipelineError`, whose docstring names it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pipelines
from pipelines.errors import PipelineError


def test_every_error_has_the_root_and_is_documented_on_it():
    errors = {}
    for info in pkgutil.iter_modules(pipelines.__path__, "pipelines."):
        module = importlib.import_module(info.name)
        errors.update({f"{module.__name__}.{name}": obj for name, obj in vars(module).items()
                       if inspect.isclass(obj) and issubclass(obj, BaseException)
                       and obj.__module__ == module.__name__ and not name.startswith("_")})
    assert {"pipelines.scan.ScanError", "pipelines.validate.ValidateError", "pipelines.publish.PublishError"} <= set(errors)
    for name, cls in errors.items():
        assert issubclass(cls, PipelineError), f"{name} does not derive from PipelineError"
        if cls is not PipelineError:
            assert f"`{name}`" in PipelineError.__doc__, f"PipelineError's docstring does not say when {name} is raised"
