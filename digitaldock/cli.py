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


class _AreaGroup(click.Group):
    """Imports an area's commands only when they are asked for.

    `digitaldock build` then never imports the checkout edge (a tenth of a second of
    start-up); `--help` and unknown names import every area.
    """

    _loaded: tuple[str, ...] = ()

    def _load(self, until: str | None = None) -> None:
        for name in COMMAND_MODULES:
            if until and until in self.commands:
                return
            if name in self._loaded:
                continue
            self._loaded += (name,)
            for command in getattr(importlib.import_module(name), "COMMANDS", ()):
                self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load(until=cmd_name)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)


def all_commands() -> dict[str, click.Command]:
    """Every top-level command by name (imports every area)."""
    main._load()
    return main.commands


@click.group(cls=_AreaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digitaldock")
def main() -> None:
    """DigitalDock: build the storefront, run the pipeline and the checkout edge."""


if __name__ == "__main__":
    main()
