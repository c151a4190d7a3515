"""The content workflow runs the pipeline through `digitaldock` commands, and only those."""

from __future__ import annotations

import re

import pytest
import yaml


@pytest.fixture(scope="module")
def workflow(repo_root):
    data = yaml.safe_load((repo_root / ".github" / "workflows" / "content.yml").read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def commands(step: dict) -> list[str]:
    return [line.strip() for line in step.get("run", "").splitlines() if line.strip()]


def test_runs_on_pull_requests_and_pushes_to_main(workflow):
    assert "pull_request" in workflow["on"]
    assert workflow["on"]["push"]["branches"] == ["main"]


def test_pipeline_steps_are_digitaldock_commands_in_order(workflow):
    (job,) = workflow["jobs"].values()
    runs = [c for step in job["steps"] for c in commands(step) if c.startswith("digitaldock ")]
    assert [r.split()[1] for r in runs] == ["validate", "scan", "build", "publish"]
    assert "--format github" in runs[0]
    assert runs[3] == ("digitaldock publish --bucket ${{ secrets.R2_BUCKET }} "
                       "--endpoint-url ${{ secrets.R2_ENDPOINT }}")


def test_no_step_does_pipeline_work_itself(workflow):
    """Besides installing, every run line is a digitaldock command."""
    (job,) = workflow["jobs"].values()
    allowed = re.compile(r"^(pip install|sudo |for i in|digitaldock )")
    for step in job["steps"]:
        for line in commands(step):
            assert allowed.match(line), line


def test_publish_only_on_main_with_credentials_from_secrets(workflow):
    (job,) = workflow["jobs"].values()
    (publish,) = [s for s in job["steps"] if "digitaldock publish" in s.get("run", "")]
    assert publish["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert job["env"]["AWS_ACCESS_KEY_ID"] == "${{ secrets.AWS_ACCESS_KEY_ID }}"
    assert job["env"]["AWS_SECRET_ACCESS_KEY"] == "${{ secrets.AWS_SECRET_ACCESS_KEY }}"


def test_clamav_installed_and_site_uploaded(workflow):
    (job,) = workflow["jobs"].values()
    text = yaml.safe_dump(job["steps"])
    assert "apt-get install -y clamav-daemon" in text
    (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["with"]["path"] == "output/"
    python = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python")]
    assert python[0]["with"]["python-version"] == "3.11"
    assert "pip install -e ." in text
