"""The `digitaldock` command: a thin click layer over library functions.

Each area contributes its commands as a list named `COMMANDS` (`generator.commands`,
`pipelines.commands`, the modules of `checkout.cli`), imported only when asked for.
"""

from __future__ import annotations

import click

from digitaldock import __version__


def _storefront() -> list[click.Command]:
    from generator.commands import COMMANDS
    return COMMANDS


def _pipeline() -> list[click.Command]:
    from pipelines.commands import COMMANDS
    return COMMANDS


def _edge() -> list[click.Command]:
    from checkout.cli.edge import COMMANDS
    return COMMANDS


def _payments() -> list[click.Command]:
    from checkout.cli.payments import COMMANDS
    return COMMANDS


def _promotions() -> list[click.Command]:
    from checkout.cli.promotions import COMMANDS
    return COMMANDS


def _delivery() -> list[click.Command]:
    from checkout.cli.delivery import COMMANDS
    return COMMANDS


def _ops() -> list[click.Command]:
    from checkout.cli.ops import COMMANDS
    return COMMANDS


def _reviews() -> list[click.Command]:
    from checkout.cli.reviews import COMMANDS
    return COMMANDS


def _consoles() -> list[click.Command]:
    from checkout.cli.consoles import COMMANDS
    return COMMANDS


def _api() -> list[click.Command]:
    from checkout.cli.api import COMMANDS
    return COMMANDS


def _dev() -> list[click.Command]:
    from checkout.cli.dev import COMMANDS
    return COMMANDS


# Areas that contribute subcommands, in the order `--help` lists them.
AREAS = (_storefront, _pipeline, _edge, _payments, _promotions, _delivery, _reviews, _ops, _consoles, _api, _dev)


class _AreaGroup(click.Group):
    """Imports an area's commands only when they are asked for.

    `digitaldock build` then never imports the checkout edge (a tenth of a second of
    start-up); `--help` and unknown names import every area.
    """

    _loaded: tuple = ()

    def _load(self, until: str | None = None) -> None:
        for area in AREAS:
            if until and until in self.commands:
                return
            if area in self._loaded:
                continue
            self._loaded += (area,)
            for command in area():
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
