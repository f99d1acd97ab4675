"""deploy/: every recipe sets real settings, the required ones, and no literal secret.

Settings are matched against .port/spec.yaml (camelCase <-> OCEAN__INTEGRATION__CONFIG__
SCREAMING_SNAKE); the CI recipes must run the image once (ONCE listener) and let its exit
code fail the pipeline; the Helm values must poll on a schedule and take credentials from
the Secret that deploy/helm/create-secrets.sh creates (run here against a fake kubectl).
Each check is also fed a deliberately broken recipe, to show it notices.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.packaging import recipes
from tests.packaging.recipes import CiRecipe, HelmExpectations, Setting

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CI_RECIPES = sorted(DEPLOY / "ci" / name for name in recipes.CI_KINDS)
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
SECRET_SCRIPT = DEPLOY / "helm" / "create-secrets.sh"
ARGOCD = DEPLOY / "argocd" / "application.yaml"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

TOKEN_ENV = {
    "PORT_CLIENT_ID": "id-from-env-1",
    "PORT_CLIENT_SECRET": "secret-from-env-2",
    "JIRA_TOKEN": "token-from-env-3",
}
BASIC_ENV = {
    "PORT_CLIENT_ID": "id-from-env-1",
    "PORT_CLIENT_SECRET": "secret-from-env-2",
    "JIRA_USERNAME": "user-from-env-4",
    "JIRA_PASSWORD": "password-from-env-5",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Setting]:
    return recipes.load_spec(REPO / ".port/spec.yaml")


def helm_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(HELM_VALUES.read_text())
    return values


def expectations() -> HelmExpectations:
    user = re.search(r"^USER\s+(\d+)", (REPO / "Dockerfile").read_text(), flags=re.M)
    assert user is not None, "the Dockerfile sets a numeric USER"
    return HelmExpectations(integration_type=PYPROJECT["name"], run_as_user=int(user[1]))


def ci(path: Path, text: str | None = None) -> CiRecipe:
    return recipes.parse_ci_recipe(path, text)


def expected_image() -> str:
    """What the port-ocean chart pulls: <imageRegistry>/port-ocean-<type>:<version>."""
    values = helm_values()
    integration = values["integration"]
    return f"{values['imageRegistry']}/port-ocean-{integration['type']}:{integration['version']}"


# --- the mapping between spec settings and environment variables --------------------


def test_setting_names_map_to_screaming_snake_variables(spec: dict[str, Setting]) -> None:
    assert recipes.env_var("jiraServerHost") == "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST"
    assert recipes.env_var("maxConcurrentRequests") == (
        "OCEAN__INTEGRATION__CONFIG__MAX_CONCURRENT_REQUESTS"
    )
    assert recipes.env_var("verifySsl") == "OCEAN__INTEGRATION__CONFIG__VERIFY_SSL"
    assert recipes.env_var("caBundle") == "OCEAN__INTEGRATION__CONFIG__CA_BUNDLE"
    for name in spec:
        assert recipes.setting_for(recipes.env_var(name), spec) == name


@pytest.mark.parametrize(
    "variable",
    [
        "OCEAN__INTEGRATION__CONFIG__JIRA_HOST",
        "OCEAN__INTEGRATION__CONFIG__JIRASERVERHOST",
        "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST_",
        "OCEAN__INTEGRATION__CONFIG__TOKENS",
        "OCEAN__INTEGRATION__JIRA_SERVER_HOST",
        "OCEAN__INTEGRATION__CONFIG__jira_server_host",
    ],
)
def test_wrong_variable_names_match_no_setting(spec: dict[str, Setting], variable: str) -> None:
    assert recipes.setting_for(variable, spec) is None


def test_secret_variables_follow_the_spec(spec: dict[str, Setting]) -> None:
    secret = recipes.secret_variables(spec)
    assert "OCEAN__INTEGRATION__CONFIG__TOKEN" in secret
    assert "OCEAN__INTEGRATION__CONFIG__PASSWORD" in secret
    assert "OCEAN__PORT__CLIENT_SECRET" in secret
    assert "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST" not in secret


# --- CI recipes ---------------------------------------------------------------------


def test_every_ci_system_has_a_recipe() -> None:
    assert {p.name for p in (DEPLOY / "ci").iterdir()} == set(recipes.CI_KINDS)


@pytest.mark.parametrize("path", CI_RECIPES, ids=lambda p: p.name)
def test_ci_recipe_is_complete_and_safe(path: Path, spec: dict[str, Setting]) -> None:
    recipe = ci(path)
    assert recipes.check_ci_recipe(recipe, spec) == []
    env = recipe.container_env()
    assert env["OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST"].startswith("https://")
    (run,) = recipe.runs
    assert recipe.resolve(run.image) == expected_image()
    assert run.args == [], "the image's ENTRYPOINT (ocean sail) runs as is"


@pytest.mark.parametrize("path", CI_RECIPES, ids=lambda p: p.name)
def test_ci_recipe_yaml_parses(path: Path) -> None:
    if path.suffix in (".yml", ".yaml"):
        assert isinstance(yaml.safe_load(path.read_text()), dict)


def _token_reference(recipe: CiRecipe) -> str:
    return recipe.env["OCEAN__INTEGRATION__CONFIG__TOKEN"]


@pytest.mark.parametrize("path", CI_RECIPES, ids=lambda p: p.name)
def test_a_literal_token_is_caught(path: Path, spec: dict[str, Setting]) -> None:
    text = path.read_text()
    reference = _token_reference(ci(path))
    broken = ci(path, text.replace(reference, "pat-literal-0000", 1))
    problems = recipes.check_ci_recipe(broken, spec)
    assert any(
        "OCEAN__INTEGRATION__CONFIG__TOKEN must come from the secret store" in p for p in problems
    )


@pytest.mark.parametrize("path", CI_RECIPES, ids=lambda p: p.name)
def test_a_misspelt_setting_is_caught(path: Path, spec: dict[str, Setting]) -> None:
    text = path.read_text().replace("CONFIG__JIRA_SERVER_HOST", "CONFIG__JIRA_HOST")
    problems = recipes.check_ci_recipe(ci(path, text), spec)
    assert any("OCEAN__INTEGRATION__CONFIG__JIRA_HOST is not a setting" in p for p in problems)
    assert any("jiraServerHost" in p and "is not set" in p for p in problems)


@pytest.mark.parametrize("path", CI_RECIPES, ids=lambda p: p.name)
def test_missing_once_listener_is_caught(path: Path, spec: dict[str, Setting]) -> None:
    text = path.read_text().replace('{"type":"ONCE"}', '{"type":"POLLING"}')
    problems = recipes.check_ci_recipe(ci(path, text), spec)
    assert any("OCEAN__EVENT_LISTENER must be" in p for p in problems)


@pytest.mark.parametrize("path", CI_RECIPES, ids=lambda p: p.name)
def test_missing_credentials_and_swallowed_exit_codes_are_caught(
    path: Path, spec: dict[str, Setting]
) -> None:
    text = path.read_text()
    no_token = re.sub(r".*-e OCEAN__INTEGRATION__CONFIG__TOKEN.*\n", "", text)
    problems = recipes.check_ci_recipe(ci(path, no_token), spec)
    assert any("no Jira credentials" in p for p in problems)

    swallowed = re.sub(r'("\$\(?\{?IMAGE\}?\)?")', r"\1 || true", text, count=1)
    assert swallowed != text
    problems = recipes.check_ci_recipe(ci(path, swallowed), spec)
    assert any("swallows" in p for p in problems)


def test_pass_through_without_a_value_is_caught(spec: dict[str, Setting]) -> None:
    path = DEPLOY / "ci" / "github-actions.yml"
    text = path.read_text().replace(
        "          OCEAN__INTEGRATION__IDENTIFIER: jira-server-sync\n", ""
    )
    problems = recipes.check_ci_recipe(ci(path, text), spec)
    assert any("passes -e OCEAN__INTEGRATION__IDENTIFIER but never sets" in p for p in problems)


def test_ignored_failures_are_caught(spec: dict[str, Setting]) -> None:
    path = DEPLOY / "ci" / "github-actions.yml"
    text = path.read_text().replace(
        "      - name: Sync Jira into Port (ONCE)\n",
        "      - name: Sync Jira into Port (ONCE)\n        continue-on-error: true\n",
    )
    problems = recipes.check_ci_recipe(ci(path, text), spec)
    assert any("exit code is ignored" in p for p in problems)


def test_jenkins_comments_do_not_count(spec: dict[str, Setting]) -> None:
    """The commented-out Basic-auth example must not look like a second auth method."""
    recipe = ci(DEPLOY / "ci" / "Jenkinsfile")
    assert "OCEAN__INTEGRATION__CONFIG__USERNAME" not in recipe.env
    literal = (
        (DEPLOY / "ci" / "Jenkinsfile")
        .read_text()
        .replace("credentials('port-client-secret')", "'hunter2'")
    )
    problems = recipes.check_ci_recipe(ci(DEPLOY / "ci" / "Jenkinsfile", literal), spec)
    assert any("OCEAN__PORT__CLIENT_SECRET must come from the secret store" in p for p in problems)


def test_docker_run_options_are_read_like_docker() -> None:
    (run,) = recipes.parse_docker_runs(
        'docker run --rm \\\n  -e A \\\n  --env B=2 -e \'C={"type":"ONCE"}\' --env=D=4 img:1 -O'
    )
    assert run.options == [("A", None), ("B", "2"), ("C", '{"type":"ONCE"}'), ("D", "4")]
    assert run.image == "img:1" and run.args == ["-O"] and "--rm" in run.other_flags


# --- Helm, the Secret script, ArgoCD -------------------------------------------------


@pytest.fixture(scope="module")
def created_token(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    work = tmp_path_factory.mktemp("secrets-token")
    ca = work / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    run = recipes.run_secret_script(SECRET_SCRIPT, {**TOKEN_ENV, "JIRA_CA_FILE": str(ca)}, work)
    assert run.returncode == 0, run.output
    return run.secrets


def test_secret_script_takes_every_value_from_the_environment(
    created_token: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    credentials = created_token["jira-server-sync-credentials"]
    assert credentials == {
        "OCEAN__PORT__CLIENT_ID": TOKEN_ENV["PORT_CLIENT_ID"],
        "OCEAN__PORT__CLIENT_SECRET": TOKEN_ENV["PORT_CLIENT_SECRET"],
        "OCEAN__INTEGRATION__CONFIG__TOKEN": TOKEN_ENV["JIRA_TOKEN"],
    }
    assert set(created_token["jira-server-sync-ca"]) == {"ca.pem"}

    basic = recipes.run_secret_script(SECRET_SCRIPT, BASIC_ENV, tmp_path / "basic")
    assert basic.returncode == 0, basic.output
    assert (
        basic.secrets["jira-server-sync-credentials"]["OCEAN__INTEGRATION__CONFIG__PASSWORD"]
        == (BASIC_ENV["JIRA_PASSWORD"])
    )
    assert "jira-server-sync-ca" not in basic.secrets  # no JIRA_CA_FILE, no CA Secret


@pytest.mark.parametrize(
    "env",
    [
        {**TOKEN_ENV, "JIRA_USERNAME": "u", "JIRA_PASSWORD": "p"},
        {k: v for k, v in TOKEN_ENV.items() if k != "JIRA_TOKEN"},
        {**BASIC_ENV, "JIRA_PASSWORD": ""},
        {k: v for k, v in TOKEN_ENV.items() if k != "PORT_CLIENT_SECRET"},
    ],
    ids=["both-methods", "no-auth", "username-only", "no-port-secret"],
)
def test_secret_script_refuses_incomplete_or_ambiguous_credentials(
    env: dict[str, str], tmp_path: Path
) -> None:
    run = recipes.run_secret_script(SECRET_SCRIPT, env, tmp_path)
    assert run.returncode != 0
    assert run.secrets == {}, "nothing may be created from half a configuration"
    assert all(value not in run.output for value in env.values() if len(value) > 3)


def test_helm_values_poll_and_take_credentials_from_the_secret(
    spec: dict[str, Setting], created_token: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    values = helm_values()
    assert recipes.check_helm_values(values, created_token, spec, expectations()) == []
    basic = recipes.run_secret_script(SECRET_SCRIPT, BASIC_ENV, tmp_path)
    created_basic = {**created_token, **basic.secrets}
    assert recipes.check_helm_values(values, created_basic, spec, expectations()) == []


def test_helm_values_mistakes_are_caught(
    spec: dict[str, Setting], created_token: dict[str, dict[str, str]]
) -> None:
    values = helm_values()
    values["integration"]["eventListener"]["type"] = "KAFKA"
    values["scheduledResyncInterval"] = None
    values["integration"]["config"]["token"] = "pat-literal"
    values["integration"]["config"]["jiraHost"] = "https://jira.example.com"
    values["integration"]["secrets"] = {"password": "hunter2"}
    values["allowEnvironmentVariablesJqAccess"] = True
    values["resources"]["requests"]["memory"] = "256Mi"
    values["extraVolumeMounts"][0]["mountPath"] = "/somewhere/else"
    problems = "\n".join(recipes.check_helm_values(values, created_token, spec, expectations()))
    for expected in (
        "eventListener.type must be POLLING",
        "scheduledResyncInterval must be a positive number",
        "integration.config.token is sensitive",
        "integration.config.jiraHost is not a setting",
        "integration.secrets.password holds a literal secret",
        "allowEnvironmentVariablesJqAccess must be false",
        "must cover the 400 MB peak",
        "caBundle /etc/jira-server-sync/ca/ca.pem is not under exactly one extraVolumeMounts",
    ):
        assert expected in problems


def test_helm_values_need_the_secret_the_script_creates(spec: dict[str, Setting]) -> None:
    values = helm_values()
    problems = recipes.check_helm_values(values, {}, spec, expectations())
    assert any("creates no Secret named 'jira-server-sync-credentials'" in p for p in problems)
    assert any("no Jira credentials" in p for p in problems)


def test_argocd_application_installs_the_pinned_chart_with_these_values() -> None:
    application = yaml.safe_load(ARGOCD.read_text())
    assert recipes.check_argocd(application, REPO) == []
    sources = application["spec"]["sources"]
    sources[0]["targetRevision"] = "*"
    sources[0]["helm"]["valueFiles"] = ["$values/deploy/helm/missing.yaml"]
    problems = recipes.check_argocd(application, REPO)
    assert any("pin the chart version" in p for p in problems)
    assert any("does not exist" in p for p in problems)


def test_helm_memory_quantities() -> None:
    assert recipes.memory_mib("512Mi") == 512
    assert recipes.memory_mib("1Gi") == 1024
    assert round(recipes.memory_mib("500M")) == 477
    with pytest.raises(ValueError):
        recipes.memory_mib("lots")
