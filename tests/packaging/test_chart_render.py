"""deploy/helm/values.yaml and the ArgoCD application, rendered by the real Helm engine
(helm-python-sdk: Helm's own Go template code as a native library, from PyPI; no package ships
the `helm` binary for Linux) with Port's `port-ocean` chart at the pinned version.

The chart itself is not in this repository (it is Port's code). The render tests read it
from $PORT_OCEAN_CHART (a chart directory or .tgz) or ../shared/charts/port-ocean-<version>
and are skipped, saying so, when neither exists; the version checks below always run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy/helm/values.yaml"
ARGOCD = ROOT / "deploy/argocd/application.yaml"
# The newest port-ocean version in the chart repository's index.yaml (gh-pages of
# port-labs/helm-charts, generated 2026-07-23): the recipes pin it.
CHART_VERSION = "0.21.0"
CHART_DIGEST = "9cb4961240ddaef2fa81704ac247ef420b55effae7655633bfcb53b286e1b6e1"
IMAGE_VERSION = "0.1.0"


def application_source() -> dict[str, Any]:
    application = yaml.safe_load(ARGOCD.read_text())
    source: dict[str, Any] = application["spec"]["sources"][0]
    return source


def test_recipes_pin_the_chart_version_of_the_index() -> None:
    assert application_source()["targetRevision"] == CHART_VERSION
    assert f"--version {CHART_VERSION}" in VALUES.read_text()
    assert f"--version {CHART_VERSION}" in (ROOT / "README.md").read_text()
    assert CHART_DIGEST[:12] in VALUES.read_text()


def test_values_set_the_processing_mode_and_the_swallowed_flags_as_env() -> None:
    values = yaml.safe_load(VALUES.read_text())
    assert values["processingMode"] == "ocean-core"
    env = {e["name"]: e["value"] for e in values["extraEnv"]}
    assert env["OCEAN__PROCESSING_MODE"] == "ocean-core"
    assert env["OCEAN__LAKEHOUSE_ENABLED"] == "false"
    assert env["OCEAN__SEND_RAW_DATA_EXAMPLES"] in {"true", "false"}


# ---- rendered by Helm ------------------------------------------------------------------


def chart_path() -> Path | None:
    candidates = [
        os.environ.get("PORT_OCEAN_CHART"),
        str(ROOT.parent / "shared" / "charts" / f"port-ocean-{CHART_VERSION}"),
    ]
    return next((Path(c) for c in candidates if c and Path(c).exists()), None)


@pytest.fixture(scope="module")
def chart() -> Any:
    helm = pytest.importorskip("helm_python", reason="helm-python-sdk (Linux wheels only)")
    path = chart_path()
    if path is None:
        pytest.skip(
            f"port-ocean chart {CHART_VERSION} not found: set PORT_OCEAN_CHART to its "
            f"directory or .tgz, or put it at ../shared/charts/port-ocean-{CHART_VERSION}"
        )
    loaded = (
        helm.Chart.load(str(path)) if path.is_dir() else helm.Chart.load_archive(path.read_bytes())
    )
    assert loaded.version == CHART_VERSION
    return loaded


def render(chart: Any, values: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rendered manifests by kind."""
    manifests = chart.render(
        values, name="jira-server-sync", namespace="port-ocean", is_install=True
    )
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for text in manifests.values():
        for document in yaml.safe_load_all(text):
            if document:
                by_kind.setdefault(document["kind"], []).append(document)
    return by_kind


def values_file() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(VALUES.read_text())
    return loaded


def container(rendered: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    (deployment,) = rendered["Deployment"]
    (main,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(main)


def effective_env(rendered: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """What the process sees: the ConfigMap (envFrom), overridden by `env` entries."""
    main = container(rendered)
    configmaps = {c["metadata"]["name"]: c["data"] for c in rendered["ConfigMap"]}
    env: dict[str, str] = {}
    for source in main.get("envFrom") or []:
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]])
    env.update({e["name"]: str(e["value"]) for e in main.get("env") or [] if "value" in e})
    return env


def test_the_values_render_a_deployment_that_starts(chart: Any) -> None:
    rendered = render(chart, values_file())
    env = effective_env(rendered)
    main = container(rendered)
    assert main["image"] == f"ghcr.io/your-org/port-ocean-jira-server-sync:{IMAGE_VERSION}"
    assert env["OCEAN__PROCESSING_MODE"] == "ocean-core"
    assert env["OCEAN__LAKEHOUSE_ENABLED"] == "false"
    assert env["OCEAN__ALLOW_ENVIRONMENT_VARIABLES_JQ_ACCESS"] == "false"
    assert json.loads(env["OCEAN__EVENT_LISTENER"])["type"] == "POLLING"
    assert env["OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST"] == "https://jira.example.com"
    spec = yaml.safe_load((ROOT / ".port/spec.yaml").read_text())
    settings = {
        "OCEAN__INTEGRATION__CONFIG__" + "".join(f"_{c}" if c.isupper() else c for c in s).upper()
        for s in (c["name"] for c in spec["configurations"])
    }
    assert {k for k in env if k.startswith("OCEAN__INTEGRATION__CONFIG__")} <= settings
    secrets = [s["secretRef"]["name"] for s in main["envFrom"] if "secretRef" in s]
    assert secrets == ["jira-server-sync-credentials"]
    mounts = {m["mountPath"] for m in main["volumeMounts"]}
    assert "/etc/jira-server-sync/ca" in mounts
    assert "Secret" not in rendered  # the credentials come from the existing Secret


def test_false_flags_are_swallowed_by_the_chart_which_is_why_values_use_env(chart: Any) -> None:
    values = values_file()
    values.update(lakehouseEnabled=False, sendRawDataExamples=False, extraEnv=[])
    configmap = render(chart, values)["ConfigMap"][0]["data"]
    assert configmap["OCEAN__LAKEHOUSE_ENABLED"] == "true"
    assert configmap["OCEAN__SEND_RAW_DATA_EXAMPLES"] == "true"
    without_mode = values_file()
    del without_mode["processingMode"]
    without_mode["extraEnv"] = []
    assert effective_env(render(chart, without_mode))["OCEAN__PROCESSING_MODE"] == "dsp"


def test_webhook_and_actions_values_as_documented(chart: Any) -> None:
    values = values_file()
    values["extraEnv"].append(
        {"name": "OCEAN__BASE_URL", "value": "https://jira-server-sync.example.com"}
    )
    values["ingress"] = {
        "enabled": True,
        "className": "nginx",
        "host": "jira-server-sync.example.com",
        "path": "/",
        "pathType": "Prefix",
        "tls": [],
    }
    values["actionsProcessor"] = {"enabled": True}
    rendered = render(chart, values)
    env = effective_env(rendered)
    assert env["OCEAN__BASE_URL"] == "https://jira-server-sync.example.com"
    assert env["OCEAN__ACTIONS_PROCESSOR__ENABLED"] == "true"
    (ingress,) = rendered["Ingress"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "jira-server-sync.example.com"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    (service,) = rendered["Service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["number"] == 8000


def test_the_argocd_application_renders_the_same_values(chart: Any) -> None:
    source = application_source()
    assert source["chart"] == "port-ocean"
    (value_file,) = source["helm"]["valueFiles"]
    path = ROOT / value_file.removeprefix("$values/")
    values = yaml.safe_load(path.read_text())
    values.update(yaml.safe_load(source["helm"].get("values") or "{}") or {})
    env = effective_env(render(chart, values))
    assert env["OCEAN__PROCESSING_MODE"] == "ocean-core"
