"""The image workflow (.github/workflows/image.yml): multi-arch with Buildx, tags from
pyproject's version, OCI labels with the source, a scan before the push, a registry the user
configures; and actionlint, from the dev lock, accepts it (as `make lint` runs it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_PATH = ROOT / ".github/workflows/image.yml"
WORKFLOW: dict[str, Any] = yaml.safe_load(WORKFLOW_PATH.read_text())
STEPS: list[dict[str, Any]] = WORKFLOW["jobs"]["image"]["steps"]


def step(uses: str) -> list[dict[str, Any]]:
    return [s for s in STEPS if str(s.get("uses", "")).startswith(f"{uses}@")]


def test_actionlint_accepts_the_workflow_and_the_ci_recipe() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/actionlint"), str(WORKFLOW_PATH), "deploy/ci/github-actions.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_arch_with_buildx_and_the_scan_before_the_push() -> None:
    assert step("docker/setup-buildx-action") and step("docker/setup-qemu-action")
    builds = step("docker/build-push-action")
    scan, publish = builds[0], builds[-1]
    assert scan["with"]["load"] is True and "push" not in scan["with"]
    assert set(publish["with"]["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    trivy = step("aquasecurity/trivy-action")
    assert trivy and trivy[0]["with"]["exit-code"] == "1"
    assert trivy[0]["with"]["image-ref"] == scan["with"]["tags"]
    order = [id(s) for s in STEPS]
    assert order.index(id(scan)) < order.index(id(trivy[0])) < order.index(id(publish))


def test_tags_come_from_pyprojects_version_and_the_tag_must_match() -> None:
    (version_step,) = [s for s in STEPS if s.get("id") == "version"]
    assert "pyproject.toml" in version_step["run"] and "does not match" in version_step["run"]
    tags = step("docker/metadata-action")[0]["with"]["tags"]
    assert "steps.version.outputs.version" in tags and "latest" in tags
    assert step("docker/build-push-action")[-1]["with"]["tags"] == "${{ steps.meta.outputs.tags }}"


def test_labels_and_build_args_match_the_dockerfile() -> None:
    labels = step("docker/metadata-action")[0]["with"]["labels"]
    assert "org.opencontainers.image.source=${{ github.server_url }}/${{ github.repository }}" in (
        labels
    )
    dockerfile_args = set(re.findall(r"^ARG (\w+)=", (ROOT / "Dockerfile").read_text(), re.M))
    for build in step("docker/build-push-action"):
        names = {line.split("=", 1)[0] for line in build["with"]["build-args"].splitlines()}
        assert names == {"VERSION", "SOURCE"} and names <= dockerfile_args


def test_registry_and_credentials_are_the_users_and_never_pushed_from_a_pull_request() -> None:
    env = WORKFLOW["env"]
    assert "vars.IMAGE_REGISTRY" in env["REGISTRY"]
    assert "vars.IMAGE_REPOSITORY" in env["REPOSITORY"]
    assert "port-ocean-jira-server-sync" in env["REPOSITORY"]  # what Port's chart pulls
    assert env["PUSH"] == "${{ github.event_name != 'pull_request' }}"
    login = step("docker/login-action")[0]
    assert login["if"] == "env.PUSH == 'true'"
    assert "secrets.REGISTRY_PASSWORD" in login["with"]["password"]
    assert WORKFLOW["permissions"] == {"contents": "read"}
