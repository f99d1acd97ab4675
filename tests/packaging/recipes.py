"""Read the deployment recipes under deploy/ and check them against the integration.

Each ``check_*`` function returns a list of problems (empty when the recipe is right), so
tests can show every problem at once and can feed deliberately broken recipes to the same
checks.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_PREFIX = "OCEAN__INTEGRATION__CONFIG__"
PORT_CREDENTIALS = ("OCEAN__PORT__CLIENT_ID", "OCEAN__PORT__CLIENT_SECRET")
JQ_ENV_ACCESS = "OCEAN__ALLOW_ENVIRONMENT_VARIABLES_JQ_ACCESS"
EVENT_LISTENER = "OCEAN__EVENT_LISTENER"

# How each CI system's recipe must refer to its secret store.
SECRET_REFERENCE = {
    "github": re.compile(r"^\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}$"),
    "gitlab": re.compile(r"^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$"),
    "azure": re.compile(r"^\$\([A-Za-z_][A-Za-z0-9_.]*\)$"),
    "jenkins": re.compile(r"^(credentials\('[^']+'\)|withCredentials)$"),
    "shell": re.compile(r"^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$"),
}
CI_KINDS = {
    "github-actions.yml": "github",
    "gitlab-ci.yml": "gitlab",
    "azure-pipelines.yml": "azure",
    "Jenkinsfile": "jenkins",
}
# Keys that make a failed step pass in each system.
IGNORE_FAILURE_KEYS = ("continue-on-error", "allow_failure", "continueOnError")


# --- settings: .port/spec.yaml <-> environment variables ----------------------------


@dataclass(frozen=True)
class Setting:
    name: str
    sensitive: bool


def load_spec(path: Path) -> dict[str, Setting]:
    spec = yaml.safe_load(path.read_text())
    return {
        c["name"]: Setting(c["name"], bool(c.get("sensitive", False)))
        for c in spec["configurations"]
    }


def screaming_snake(camel: str) -> str:
    """``jiraServerHost`` -> ``JIRA_SERVER_HOST``: the Helm chart's ``snakecase | upper``
    and port-ocean's camelCase -> snake_case setting names agree on this."""
    snake = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", camel)
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", snake)
    return snake.upper()


def env_var(setting: str) -> str:
    return CONFIG_PREFIX + screaming_snake(setting)


def setting_for(variable: str, spec: Mapping[str, Setting]) -> str | None:
    """The spec setting an ``OCEAN__INTEGRATION__CONFIG__*`` variable sets, or None."""
    if not variable.startswith(CONFIG_PREFIX):
        return None
    matches = [name for name in spec if env_var(name) == variable]
    return matches[0] if matches else None


def configured_settings(
    variables: Iterable[str], spec: Mapping[str, Setting], where: str
) -> tuple[set[str], list[str]]:
    """The spec settings these variables set (``OCEAN__INTEGRATION__CONFIG__*`` ones; the
    rest are ignored), and a problem for each such variable the spec does not know."""
    settings: set[str] = set()
    problems: list[str] = []
    for name in variables:
        if name.startswith(CONFIG_PREFIX):
            setting = setting_for(name, spec)
            if setting is None:
                problems.append(f"{where}: {name} is not a setting in .port/spec.yaml")
            else:
                settings.add(setting)
    return settings, problems


def secret_variables(spec: Mapping[str, Setting]) -> set[str]:
    return {*PORT_CREDENTIALS, *(env_var(s.name) for s in spec.values() if s.sensitive)}


def auth_problems(settings: set[str], where: str) -> list[str]:
    """The integration needs a token, or username and password (not both)."""
    token = "token" in settings
    basic = {"username", "password"} & settings
    if token and basic:
        return [f"{where}: sets both token and {sorted(basic)}; the integration accepts one method"]
    if not token and basic != {"username", "password"}:
        return [f"{where}: no Jira credentials: set token, or username and password"]
    return []


# --- CI recipes ---------------------------------------------------------------------


@dataclass
class DockerRun:
    text: str
    options: list[tuple[str, str | None]]  # (-e NAME, VALUE or None for pass-through)
    other_flags: list[str]
    image: str
    args: list[str]


@dataclass
class CiRecipe:
    name: str
    kind: str
    env: dict[str, str] = field(default_factory=dict)  # as written in the recipe
    runs: list[DockerRun] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    ignores_failure: list[str] = field(default_factory=list)

    def container_env(self) -> dict[str, str]:
        """What the container gets: ``-e NAME=VALUE``, or the recipe's NAME for ``-e NAME``."""
        env: dict[str, str] = {}
        for run in self.runs:
            for name, value in run.options:
                if value is not None:
                    env[name] = value
                elif name in self.env:
                    env[name] = self.env[name]
        return env

    def resolve(self, word: str) -> str:
        """``$IMAGE``, ``${IMAGE}`` or ``$(IMAGE)`` through the recipe's variables."""
        match = re.fullmatch(r"\$(?:\{(\w+)\}|\((\w+)\)|(\w+))", word)
        if match:
            name = next(g for g in match.groups() if g)
            return self.env.get(name, word)
        return word


def parse_docker_runs(script: str) -> list[DockerRun]:
    joined = re.sub(r"\\\n", " ", script)
    runs = []
    for match in re.finditer(r"docker\s+run\b([^\n;&|]*)", joined):
        words = shlex.split(match.group(1))
        options: list[tuple[str, str | None]] = []
        other: list[str] = []
        while words and words[0].startswith("-"):
            flag = words.pop(0)
            if flag in ("-e", "--env"):
                name, sep, value = words.pop(0).partition("=")
                options.append((name, value if sep else None))
            elif flag.startswith("--env="):
                name, sep, value = flag.removeprefix("--env=").partition("=")
                options.append((name, value if sep else None))
            elif flag in ("--env-file", "-v", "--volume", "--name", "--network", "-p"):
                other.extend([flag, words.pop(0)])
            else:
                other.append(flag)
        if not words:
            continue
        runs.append(DockerRun(match.group(0), options, other, words[0], words[1:]))
    return runs


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, key, value) for every mapping entry in a YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}[{index}]")


def parse_yaml_recipe(name: str, kind: str, text: str) -> CiRecipe:
    recipe = CiRecipe(name, kind)
    tree = yaml.safe_load(text)
    for path, key, value in _walk(tree):
        if key in ("env", "variables") and isinstance(value, dict):
            recipe.env.update({str(k): str(v) for k, v in value.items()})
        elif key == "variables" and isinstance(value, list):  # Azure: [{name, value} | {group}]
            for item in value:
                if isinstance(item, dict) and "name" in item:
                    recipe.env[str(item["name"])] = str(item.get("value", ""))
        elif key in ("run", "script", "bash"):
            scripts = value if isinstance(value, list) else [value]
            recipe.scripts.extend(str(s) for s in scripts)
        elif key in IGNORE_FAILURE_KEYS and value not in (False, None, "false"):
            recipe.ignores_failure.append(f"{path}.{key}: {value}")
    for script in recipe.scripts:
        recipe.runs.extend(parse_docker_runs(script))
    return recipe


def strip_groovy_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))


def groovy_blocks(code: str, keyword: str) -> list[str]:
    """The bodies of ``keyword { ... }`` blocks, matching braces outside quoted strings."""
    bodies = []
    for match in re.finditer(rf"\b{keyword}\s*\{{", code):
        depth, quote, i = 1, "", match.end()
        while i < len(code) and depth:
            char = code[i]
            if quote:
                if char == "\\":
                    i += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            i += 1
        bodies.append(code[match.end() : i - 1])
    return bodies


def parse_jenkinsfile(name: str, text: str) -> CiRecipe:
    recipe = CiRecipe(name, "jenkins")
    code = strip_groovy_comments(text)
    for block in groovy_blocks(code, "environment"):
        for line in block.splitlines():
            match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$", line)
            if match:
                value = match.group(2)
                quoted = re.fullmatch(r"'(.*)'|\"(.*)\"", value)
                recipe.env[match.group(1)] = (
                    next(g for g in quoted.groups() if g is not None) if quoted else value
                )
    for variable in re.findall(
        r"(?:usernameVariable|passwordVariable|variable)\s*:\s*'(\w+)'", code
    ):
        recipe.env[variable] = "withCredentials"
    recipe.scripts = [
        next(g for g in m.groups() if g is not None)
        for m in re.finditer(
            r"\bsh\s*\(?\s*(?:'''(.*?)'''|\"\"\"(.*?)\"\"\"|'([^'\n]*)')", code, flags=re.S
        )
    ]
    if re.search(r"\bcatchError\b|returnStatus\s*:\s*true|\bcontinueOnError\b", code):
        recipe.ignores_failure.append("catchError / returnStatus swallows the exit code")
    for script in recipe.scripts:
        recipe.runs.extend(parse_docker_runs(script))
    return recipe


def parse_ci_recipe(path: Path, text: str | None = None) -> CiRecipe:
    kind = CI_KINDS[path.name]
    body = path.read_text() if text is None else text
    if kind == "jenkins":
        return parse_jenkinsfile(path.name, body)
    return parse_yaml_recipe(path.name, kind, body)


def check_ci_recipe(recipe: CiRecipe, spec: Mapping[str, Setting]) -> list[str]:
    where = recipe.name
    problems: list[str] = []
    if len(recipe.runs) != 1:
        return [f"{where}: expected one `docker run`, found {len(recipe.runs)}"]
    (run,) = recipe.runs
    if "--rm" not in run.other_flags:
        problems.append(f"{where}: docker run without --rm")
    if "--env-file" in run.other_flags:
        problems.append(f"{where}: --env-file cannot be checked; pass -e NAME")
    for name, value in run.options:
        if value is None and name not in recipe.env:
            problems.append(f"{where}: passes -e {name} but never sets {name}")
    env = recipe.container_env()

    configured, unknown = configured_settings(env, spec, where)
    problems += unknown
    if "jiraServerHost" not in configured:
        problems.append(f"{where}: jiraServerHost ({env_var('jiraServerHost')}) is not set")
    problems += auth_problems(configured, where)
    for name in (*PORT_CREDENTIALS, "OCEAN__INTEGRATION__IDENTIFIER"):
        if name not in env:
            problems.append(f"{where}: {name} is not passed to the container")

    reference = SECRET_REFERENCE[recipe.kind]
    for name in sorted(secret_variables(spec) & env.keys()):
        if not reference.match(env[name].strip()):
            problems.append(
                f"{where}: {name} must come from the secret store ({reference.pattern}), "
                f"not a literal value"
            )

    listener = env.get(EVENT_LISTENER)
    try:
        listener_type = json.loads(listener)["type"] if listener else None
    except (ValueError, KeyError, TypeError):
        listener_type = None
    if listener_type != "ONCE":
        problems.append(f'{where}: {EVENT_LISTENER} must be {{"type":"ONCE"}}, got {listener!r}')
    if env.get(JQ_ENV_ACCESS, "").lower() != "false":
        problems.append(f"{where}: {JQ_ENV_ACCESS} must be false (JQ could read the secrets)")

    problems += [f"{where}: the exit code is ignored: {item}" for item in recipe.ignores_failure]
    for script in recipe.scripts:
        if re.search(r"\|\|\s*(true|:|exit\s+0)\b|\bset\s+\+e\b", script):
            problems.append(f"{where}: the script swallows docker run's exit code")
    return problems


# --- Helm values, the Secret script, the ArgoCD Application -------------------------


FAKE_KUBECTL = """#!/bin/sh
# Records the arguments of each call, one per line, in a file of its own: the two kubectl
# processes of a `create | apply` pipeline run at the same time and would interleave.
{ printf '%s\\n' "---call"; for arg in "$@"; do printf '%s\\n' "$arg"; done; } > "$KUBECTL_LOG.$$"
[ "$1" = "apply" ] && cat > /dev/null
exit 0
"""


@dataclass
class ScriptRun:
    returncode: int
    output: str
    secrets: dict[str, dict[str, str]]  # Secret name -> key -> value given to kubectl


def run_secret_script(script: Path, env: Mapping[str, str], work: Path) -> ScriptRun:
    """Run deploy/helm/create-secrets.sh with a fake ``kubectl`` that records its calls;
    return which keys (and values) each ``kubectl create secret generic`` received."""
    bin_dir = work / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    log = work / "kubectl.log"
    for old in work.glob("kubectl.log.*"):
        old.unlink()
    completed = subprocess.run(
        ["bash", str(script), "port-ocean"],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "KUBECTL_LOG": str(log), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    secrets: dict[str, dict[str, str]] = {}
    records = "".join(p.read_text() for p in sorted(work.glob("kubectl.log.*")))
    for call in records.split("---call\n")[1:]:
        args = call.splitlines()
        if args[:3] != ["create", "secret", "generic"]:
            continue
        entries = secrets.setdefault(args[3], {})
        for arg in args[4:]:
            match = re.match(r"--from-(?:literal|file)=([\w.-]+)=(.*)", arg)
            if match:
                entries[match.group(1)] = match.group(2)
    return ScriptRun(completed.returncode, completed.stdout + completed.stderr, secrets)


def memory_mib(quantity: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?", str(quantity))
    if not match:
        raise ValueError(f"unreadable memory quantity {quantity!r}")
    factor = {
        None: 1 / 2**20,
        "Ki": 1 / 1024,
        "Mi": 1,
        "Gi": 1024,
        "K": 1000 / 2**20,
        "M": 10**6 / 2**20,
        "G": 10**9 / 2**20,
    }[match.group(2)]
    return float(match.group(1)) * factor


@dataclass
class HelmExpectations:
    integration_type: str
    run_as_user: int
    peak_rss_mib: float = 400


def check_helm_values(
    values: Mapping[str, Any],
    created: Mapping[str, Mapping[str, str]],
    spec: Mapping[str, Setting],
    expect: HelmExpectations,
) -> list[str]:
    """``created``: the Secrets deploy/helm/create-secrets.sh made in one run (name -> key
    -> value); the values must find everything they refer to in them."""
    where = "deploy/helm/values.yaml"
    problems: list[str] = []
    integration = values.get("integration", {})
    if integration.get("eventListener", {}).get("type") != "POLLING":
        problems.append(f"{where}: integration.eventListener.type must be POLLING")
    interval = values.get("scheduledResyncInterval")
    if not isinstance(interval, int) or interval <= 0:
        problems.append(f"{where}: scheduledResyncInterval must be a positive number of minutes")
    if integration.get("type") != expect.integration_type:
        problems.append(
            f"{where}: integration.type must be {expect.integration_type!r} (the chart pulls "
            f"port-ocean-<type>, and port-ocean defaults the type to pyproject's name)"
        )
    if not integration.get("identifier"):
        problems.append(f"{where}: integration.identifier is empty")

    configured: set[str] = set()
    config = integration.get("config") or {}
    for key in config:
        if key not in spec:
            problems.append(
                f"{where}: integration.config.{key} is not a setting in .port/spec.yaml"
            )
        elif spec[key].sensitive:
            problems.append(f"{where}: integration.config.{key} is sensitive: use the Secret")
        configured.add(key)
    for key, value in (integration.get("secrets") or {}).items():
        if key not in spec:
            problems.append(
                f"{where}: integration.secrets.{key} is not a setting in .port/spec.yaml"
            )
        if value not in (None, ""):
            problems.append(f"{where}: integration.secrets.{key} holds a literal secret")
    if "jiraServerHost" not in configured:
        problems.append(f"{where}: integration.config.jiraServerHost is not set")

    secret = values.get("secret", {})
    if secret.get("create") is not False or secret.get("useExistingSecret") is not True:
        problems.append(
            f"{where}: use an existing Secret (secret.create false, useExistingSecret true)"
        )
    secrets = created
    credentials = secrets.get(str(secret.get("name")), {})
    if not credentials:
        problems.append(f"{where}: the script creates no Secret named {secret.get('name')!r}")
    from_secret, unknown = configured_settings(credentials, spec, "create-secrets.sh")
    problems += unknown
    for name in PORT_CREDENTIALS:
        if name not in credentials:
            problems.append(f"create-secrets.sh: {name} is missing from the Secret")
    problems += auth_problems(from_secret, "create-secrets.sh (token or username + password)")
    if configured & from_secret:
        problems.append(f"{where}: {sorted(configured & from_secret)} set twice")

    problems += _ca_bundle_problems(values, config, secrets, where)

    if values.get("allowEnvironmentVariablesJqAccess") is not False:
        problems.append(f"{where}: allowEnvironmentVariablesJqAccess must be false")
    extra_env = {e["name"]: str(e.get("value")) for e in values.get("extraEnv") or []}
    if extra_env.get(JQ_ENV_ACCESS) != "false":
        problems.append(f"{where}: extraEnv must set {JQ_ENV_ACCESS}=false")

    resources = values.get("resources", {})
    try:
        request = memory_mib(resources["requests"]["memory"])
        limit = memory_mib(resources["limits"]["memory"])
        if request < expect.peak_rss_mib or limit < request:
            problems.append(
                f"{where}: memory request {request:.0f}Mi / limit {limit:.0f}Mi must cover the "
                f"{expect.peak_rss_mib:.0f} MB peak (limit >= request)"
            )
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"{where}: resources.requests/limits.memory unreadable ({exc})")

    pod = values.get("podSecurityContext", {})
    if pod.get("runAsNonRoot") is not True or pod.get("runAsUser") != expect.run_as_user:
        problems.append(
            f"{where}: podSecurityContext must run as non-root UID {expect.run_as_user}"
        )
    return problems


def _ca_bundle_problems(
    values: Mapping[str, Any],
    config: Mapping[str, Any],
    secrets: Mapping[str, Mapping[str, str]],
    where: str,
) -> list[str]:
    bundle = config.get("caBundle")
    if not bundle:
        return []
    path = Path(str(bundle))
    mounts = [
        m for m in values.get("extraVolumeMounts") or [] if path.is_relative_to(m["mountPath"])
    ]
    if len(mounts) != 1:
        return [f"{where}: caBundle {bundle} is not under exactly one extraVolumeMounts path"]
    volumes = {v["name"]: v for v in values.get("extraVolumes") or []}
    volume = volumes.get(mounts[0]["name"])
    if volume is None:
        return [f"{where}: extraVolumeMounts {mounts[0]['name']} has no extraVolumes entry"]
    source = volume.get("secret") or volume.get("configMap") or {}
    relative = path.relative_to(mounts[0]["mountPath"]).as_posix()
    items = {i["path"]: i["key"] for i in source.get("items", [])}
    key = items.get(relative, relative if not items else None)
    if key is None:
        return [f"{where}: no item of volume {volume['name']} is mounted at {relative}"]
    name = source.get("secretName") or source.get("name")
    if "secret" in volume and key not in secrets.get(str(name), {}):
        return [f"{where}: create-secrets.sh does not put {key!r} into Secret {name!r}"]
    return []


def check_argocd(application: Mapping[str, Any], repo: Path) -> list[str]:
    where = "deploy/argocd/application.yaml"
    problems: list[str] = []
    if application.get("kind") != "Application" or not str(
        application.get("apiVersion")
    ).startswith("argoproj.io/"):
        problems.append(f"{where}: not an ArgoCD Application")
    spec = application.get("spec", {})
    sources = spec.get("sources") or ([spec["source"]] if "source" in spec else [])
    charts = [s for s in sources if s.get("chart") == "port-ocean"]
    if len(charts) != 1:
        return [*problems, f"{where}: expected one source with chart port-ocean"]
    (chart,) = charts
    if chart.get("repoURL", "").rstrip("/") != "https://port-labs.github.io/helm-charts":
        problems.append(
            f"{where}: the port-ocean chart comes from https://port-labs.github.io/helm-charts"
        )
    if not re.fullmatch(r"\d+\.\d+\.\d+", str(chart.get("targetRevision", ""))):
        problems.append(f"{where}: pin the chart version (targetRevision x.y.z)")
    refs = {s.get("ref") for s in sources if s.get("ref")}
    value_files = chart.get("helm", {}).get("valueFiles", [])
    if not value_files:
        problems.append(f"{where}: no helm.valueFiles")
    for value_file in value_files:
        ref, _, relative = value_file.partition("/")
        if not ref.startswith("$") or ref[1:] not in refs:
            problems.append(f"{where}: {value_file} does not start with a source ref ($values)")
        elif not (repo / relative).is_file():
            problems.append(f"{where}: {relative} does not exist in this repository")
    return problems
