"""The `digitaldock` command: a thin click layer over library functions.

Each area contributes its commands from its own `commands` module (a list named
`COMMANDS`), so the CLI stays one file and no area imports another's internals.
"""

from __future__ import annotations

import importlib

import click

from . import __version__

# Modules that contribute subcommands, in the order `--help` lists them.
COMMAND_MODULES = ("generator.commands", "pipelines.commands", "checkout.commands", "digitaldock.dev")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digitaldock")
def main() -> None:
    """DigitalDock: build the storefront, run the pipeline and the checkout edge."""


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # an area that has no commands yet
                continue
            raise
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_load_commands()


if __name__ == "__main__":
    main()
