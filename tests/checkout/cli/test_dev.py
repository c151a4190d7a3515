"""`digitaldock dev` starts each installed part of the local stack with matching URLs."""

from __future__ import annotations

from click.testing import CliRunner

from checkout.cli import dev
from checkout.cli.main import all_commands, main


def test_stack_lists_every_installed_part():
    names = [name for name, _ in dev.stack()]
    assert names[0] == "storefront"
    assert ("edge" in names) == ("edge" in all_commands())
    argv = dict(dev.stack("127.0.0.1"))["storefront"]
    assert argv[-4:] == ["--host", "127.0.0.1", "--port", "8000"]


def test_stack_environment_points_the_parts_at_each_other(monkeypatch):
    monkeypatch.delenv("CHECKOUT_URL", raising=False)
    monkeypatch.setenv("SITE_URL", "http://shop.example")
    env = dev.stack_env("127.0.0.1")
    assert env["SITE_URL"] == "http://shop.example"  # the environment wins
    assert env["CHECKOUT_URL"] == "http://127.0.0.1:8001"


def test_cli_lists_the_commands_of_every_area():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("build", "serve", "dev", "validate", "scan", "publish", "edge", "migrate", "seed"):
        assert f"  {command}" in result.output


def test_the_json_logging_parts_log_to_files_unless_verbose(tmp_path):
    folder = dev.log_folder({"DIGITALDOCK_DATA_DIR": str(tmp_path)})
    assert folder == tmp_path / "logs"
    assert dev.output_for("storefront", folder, verbose=False) is None  # content problems stay on screen
    assert dev.output_for("edge", folder, verbose=True) is None
    out = dev.output_for("edge", folder, verbose=False)
    assert out is not None
    with out:
        out.write(b"".join(f"line {i}\n".encode() for i in range(30)))
    assert dev.tail(folder / "edge.log", 3) == "line 27\nline 28\nline 29"
    assert dev.tail(folder / "missing.log") == ""
