"""The Dockerfile, checked statically and replayed outside Docker (no engine on this machine).

The replay (``tests/packaging/dockerfile.py``) runs the builder stage's own RUN line (the same
pip command, against the same lock, with this machine's pip configuration supplying the
index) in a fresh virtualenv made by a Python of the FROM image's minor version, copies
exactly what the final stage's COPY lines name (through .dockerignore) and runs the
ENTRYPOINT from the WORKDIR with the final stage's ENV only. The e2e tests share one replay
per module (about 20 s); nothing is cached between runs.

The ONCE sync against the local stack runs when ``local_stack.jira_emulator`` and
``local_stack.catalog`` can be started (``python -m``); see the block marked
"LOCAL STACK" below for what is left to fill in.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from jira_server import blueprints
from tests.packaging import dockerfile as dockerfile_mod
from tests.packaging.dockerfile import Dockerfile, Replay, StageResult

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

# What `ocean sail` needs in its working directory (the image's WORKDIR).
RUNTIME_FILES = (
    "integration.py",
    "main.py",
    "client.py",
    "jira_server/__init__.py",
    "pyproject.toml",
    "config.yaml",
    ".port/spec.yaml",
    ".port/resources/port-app-config.yml",
    ".port/resources/blueprints.json",
)
RUNTIME_TOP_LEVEL = {
    "integration.py",
    "main.py",
    "client.py",
    "jira_server",
    "pyproject.toml",
    "config.yaml",
    ".port",
}
DEV_ONLY = (".venv", ".git", "tests", "local_stack", "benchmarks", "deploy", ".demo", "scripts")
OCI_LABELS = ("title", "description", "version", "source", "licenses")

# Throwaway credentials: long enough that port-ocean's log masking cannot hide a leak.
PORT_CLIENT_ID = "replay-port-client-id-7c1e"
PORT_CLIENT_SECRET = "replay-port-client-secret-93fa"
JIRA_TOKEN = "replay-jira-token-5d2b"
SECRETS = (PORT_CLIENT_SECRET, JIRA_TOKEN)


@pytest.fixture(scope="module")
def parsed() -> Dockerfile:
    return dockerfile_mod.parse((REPO / "Dockerfile").read_text())


def final_run_lines(parsed: Dockerfile) -> list[str]:
    return [i.value for i in parsed.final.of("RUN")]


# --- static checks (fast) -------------------------------------------------------------


def test_every_stage_uses_the_same_pinned_slim_python(parsed: Dockerfile) -> None:
    images = {parsed.base_image(stage) for stage in parsed.stages}
    # One image for builder and runtime: the venv's python symlink points into it.
    assert len(images) == 1, images
    (image,) = images
    assert re.fullmatch(r"python:3\.12\.\d+-slim-bookworm", image), image
    minimum = re.search(r">=\s*(\d+)\.(\d+)", PYPROJECT["requires-python"])
    assert minimum is not None
    assert dockerfile_mod.python_minor(image) >= (int(minimum[1]), int(minimum[2]))
    assert len(parsed.stages) >= 2, "builder and runtime stages expected"


def test_builder_installs_the_runtime_lock_with_wheels_only(parsed: Dockerfile) -> None:
    builder_copies = [i.value for i in parsed.stages[0].of("COPY")]
    assert any("requirements.lock" in c for c in builder_copies), builder_copies
    assert not any(
        "requirements-dev.lock" in i.value for s in parsed.stages for i in s.instructions
    )
    runs = " && ".join(i.value for i in parsed.stages[0].of("RUN"))
    install = re.search(r"pip\"? install (?P<args>[^&]*)", runs)
    assert install is not None, runs
    args = install["args"].split()
    for flag in ("--no-cache-dir", "--no-deps", "--only-binary=:all:"):
        assert flag in args, f"{flag} missing from: {install[0]}"
    assert "--requirement" in args or "-r" in args
    assert 'pip" check' in runs or "pip check" in runs, "a --no-deps install must be checked"


def test_final_stage_is_minimal_and_runs_as_a_fixed_non_root_user(parsed: Dockerfile) -> None:
    final = parsed.final
    # The only RUN in the final stage creates the account (no compilers, caches, installs).
    for run in final_run_lines(parsed):
        for command in re.split(r"\s*&&\s*", run):
            assert re.match(r"(groupadd|useradd) ", command), (
                f"unexpected final-stage RUN: {command}"
            )
    users = final.of("USER")
    assert len(users) == 1
    uid, _, gid = users[0].value.partition(":")
    assert uid.isdigit() and gid.isdigit(), "numeric USER, so runAsNonRoot can verify it"
    assert int(uid) >= 1000 and int(gid) >= 1000
    created = " ".join(final_run_lines(parsed))
    assert f"--uid {uid}" in created and f"--gid {gid}" in created
    # USER comes after every COPY: the files stay root-owned and read-only for the process.
    last_copy = max(i.line for i in final.of("COPY"))
    assert users[0].line > last_copy
    assert all("--chown" not in i.value for i in final.of("COPY"))
    sources = [c for i in final.of("COPY") for c in i.value.split()]
    for dev in DEV_ONLY:
        assert not any(s.strip("./").startswith(dev) for s in sources), dev


def test_labels_version_and_entrypoint(parsed: Dockerfile) -> None:
    final = parsed.final
    args = {
        name.strip(): default
        for name, _, default in (i.value.partition("=") for i in final.of("ARG"))
    }
    assert args.get("VERSION") == PYPROJECT["version"], "ARG VERSION must default to pyproject's"
    labels = dockerfile_mod.key_values(" ".join(i.value for i in final.of("LABEL")), args)
    for name in OCI_LABELS:
        assert labels.get(f"org.opencontainers.image.{name}"), name
    assert labels["org.opencontainers.image.version"] == PYPROJECT["version"]
    assert labels["org.opencontainers.image.description"] == PYPROJECT["description"]
    entrypoints = final.of("ENTRYPOINT")
    assert len(entrypoints) == 1
    assert dockerfile_mod.exec_form(entrypoints[0].value) == ["ocean", "sail"]
    assert not final.of("CMD")
    workdirs = final.of("WORKDIR")
    assert workdirs and workdirs[-1].line < entrypoints[0].line


def test_healthcheck_targets_oceans_default_port_and_live_route(parsed: Dockerfile) -> None:
    from port_ocean.cli.commands.sail import sail

    (port_option,) = [p for p in sail.params if p.name == "port"]
    (healthcheck_line,) = parsed.final.of("HEALTHCHECK")
    healthcheck = dockerfile_mod.parse_healthcheck(healthcheck_line.value)
    assert healthcheck is not None
    command = " ".join(healthcheck.command)
    assert f"127.0.0.1:{port_option.default}/health/live" in command
    exposed = [i.value for i in parsed.final.of("EXPOSE")]
    assert exposed == [str(port_option.default)]


def test_dockerignore_keeps_runtime_files_and_drops_the_rest() -> None:
    patterns = dockerfile_mod.read_dockerignore((REPO / ".dockerignore").read_text())
    for path in (*RUNTIME_FILES, "requirements.lock", "jira_server/settings.py"):
        assert not dockerfile_mod.is_ignored(path, patterns), path
    for path in (
        ".venv/bin/python",
        ".git/HEAD",
        "tests/unit/test_client.py",
        "local_stack/process.py",
        "benchmarks/full_sync.py",
        "deploy/helm/values.yaml",
        ".demo/catalog.sqlite",
        "catalog.sqlite",
        "jira_server/__pycache__/client.cpython-312.pyc",
        "jira_server/sub/__pycache__/x.cpython-312.pyc",
        ".mypy_cache/3.12/x.json",
        ".ruff_cache/x",
        ".env",
        "requirements-dev.lock",
    ):
        assert dockerfile_mod.is_ignored(path, patterns), path


def test_dockerignore_matcher_follows_docker_rules() -> None:
    patterns = dockerfile_mod.read_dockerignore("*\n!keep\n**/*.tmp\n!keep/special.tmp\n/abs\n")
    assert dockerfile_mod.is_ignored("other/file", patterns)
    assert not dockerfile_mod.is_ignored("keep/file", patterns)
    assert dockerfile_mod.is_ignored("keep/deep/x.tmp", patterns)
    assert not dockerfile_mod.is_ignored("keep/special.tmp", patterns)
    assert dockerfile_mod.is_ignored("abs/x", patterns)


# --- the replay (e2e) ---------------------------------------------------------------


@dataclass
class Replayed:
    replay: Replay
    final: StageResult
    env: dict[str, str]  # final stage ENV, mapped to host paths
    workdir: Path
    venv: Path
    log_dir: Path

    def entrypoint(self, *extra: str) -> list[str]:
        assert self.final.entrypoint is not None
        argv = [*self.final.entrypoint, *(self.final.cmd or []), *extra]
        resolved = which(argv[0], self.env["PATH"])
        assert resolved is not None, f"{argv[0]} not on the image's PATH {self.env['PATH']}"
        return [resolved, *argv[1:]]

    def run(
        self, argv: list[str], extra_env: Mapping[str, str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            argv,
            cwd=self.workdir,
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.assert_workdir_untouched()
        return result

    def assert_workdir_untouched(self) -> None:
        """The WORKDIR holds exactly what the COPY lines put there: in the image it is
        root-owned, so anything the process writes next to the code (bytecode, caches,
        state) would fail at run time."""
        copied = {
            str(self.replay.host(c)) for c in self.final.copied if c.startswith(self.final.workdir)
        }
        present = {str(p) for p in self.workdir.rglob("*") if p.is_file()}
        assert present == copied, f"written into the WORKDIR: {sorted(present - copied)}"


def which(name: str, path: str) -> str | None:
    for directory in path.split(":"):
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


@pytest.fixture(scope="module")
def replayed(parsed: Dockerfile, tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    image = parsed.base_image(parsed.final)
    minor = dockerfile_mod.python_minor(image)
    interpreter = dockerfile_mod.find_interpreter(minor)
    if interpreter is None:
        pytest.skip(f"no Python {minor[0]}.{minor[1]} on this machine to stand in for {image}")
    base = tmp_path_factory.mktemp("docker-replay")
    shim = base / "shim-bin"
    dockerfile_mod.write_python_shim(shim, interpreter)
    (base / "home").mkdir()
    # The machine's pip configuration (index, find-links, certificates) applies, as the
    # registry would inside `docker build`; nothing else from this process leaks in.
    pip_env = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    replay = Replay(
        parsed,
        context=REPO,
        root=base / "root",
        scratch=base,
        shim_bin=shim,
        base_env={**pip_env, "HOME": str(base / "home")},
    )
    final = replay.build()
    home = "/"
    for run in replay.skipped_runs:
        if match := re.search(r"--home-dir\s+(\S+)", run):
            home = match.group(1)
    env = {**replay.host_env(final.env), "HOME": home}
    workdir = replay.host(final.workdir)
    venv = Path(env["VIRTUAL_ENV"])
    log_dir = base / "logs"
    log_dir.mkdir()
    return Replayed(replay, final, env, workdir, venv, log_dir)


@pytest.mark.e2e
def test_replayed_venv_is_the_lock_and_fits_the_base_image(replayed: Replayed) -> None:
    assert replayed.venv.is_relative_to(replayed.replay.root)
    freeze = subprocess.run(
        [str(replayed.venv / "bin/python"), "-m", "pip", "freeze", "--all"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": replayed.env["PATH"], "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    ).stdout
    installed = {line.split("==")[0].lower().replace("_", "-") for line in freeze.splitlines()}
    locked = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (REPO / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert installed - {"pip"} == locked
    codename = parsed_codename(replayed)
    glibc = dockerfile_mod.GLIBC_BY_CODENAME[codename]
    too_new = {
        dist: need
        for dist, need in dockerfile_mod.wheel_glibc_requirements(replayed.venv).items()
        if need > glibc
    }
    assert not too_new, f"wheels need a newer glibc than {codename}'s {glibc}: {too_new}"


def parsed_codename(replayed: Replayed) -> str:
    image = replayed.replay.dockerfile.base_image(replayed.final.stage)
    return image.rsplit("-", 1)[-1]


@pytest.mark.e2e
def test_final_stage_copies_exactly_the_runtime_files(replayed: Replayed) -> None:
    workdir = replayed.workdir
    for name in RUNTIME_FILES:
        assert (workdir / name).is_file(), f"{name} missing from the image's WORKDIR"
    assert {p.name for p in workdir.iterdir()} == RUNTIME_TOP_LEVEL
    # Every module of the package, and nothing the build context should have dropped.
    shipped = {p.relative_to(workdir).as_posix() for p in workdir.rglob("*.py")}
    source = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "jira_server").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert source <= shipped
    assert not list(workdir.rglob("__pycache__")) and not list(workdir.rglob("*.pyc"))
    # COPY keeps the build context's modes and the files stay root-owned: the runtime user
    # reads them as "other" (a checkout made with umask 077 would break the image).
    unreadable = [
        str(p)
        for root in (workdir, replayed.venv)
        for p in [root, *root.rglob("*")]
        if not p.is_symlink() and (p.stat().st_mode & (0o005 if p.is_dir() else 0o004)) == 0
    ]
    assert not unreadable, f"not readable by the image's non-root user: {unreadable[:10]}"
    # Only the venv and the WORKDIR exist in the final stage (the builder's /build is gone).
    top = {p.name for p in replayed.replay.root.iterdir()}
    expected = {
        path.strip("/").split("/")[0]
        for path in (replayed.final.env["VIRTUAL_ENV"], replayed.final.workdir)
    }
    assert top == expected, top


@pytest.mark.e2e
def test_entrypoint_help(replayed: Replayed) -> None:
    argv = replayed.entrypoint("--help")
    assert Path(argv[0]).is_relative_to(replayed.venv), argv[0]
    result = replayed.run(argv, {})
    assert result.returncode == 0, result.stderr
    assert "--once" in result.stdout and "Usage: ocean sail" in result.stdout


@pytest.mark.e2e
def test_integration_boots_offline_from_the_workdir(replayed: Replayed) -> None:
    """port-ocean's own loader (as `ocean sail` runs it, minus the server) finds the
    integration class, the spec, config.yaml and main.py's handlers in the WORKDIR."""
    script = (
        "import json\n"
        "from port_ocean.utils.signal import init_signal_handler\n"
        "init_signal_handler()\n"
        "from port_ocean.bootstrap import load_ocean_app\n"
        "app = load_ocean_app('.')\n"
        "print('RESULT=' + json.dumps({'class': type(app.integration).__name__,"
        " 'kinds': sorted(app.integration.event_strategy.resync),"
        " 'type': app.config.integration.type,"
        " 'jq_env': app.config.allow_environment_variables_jq_access}))\n"
    )
    python = which("python", replayed.env["PATH"])
    assert python is not None and Path(python).is_relative_to(replayed.venv)
    result = replayed.run([python, "-c", script], offline_env(jira_host="http://127.0.0.1:9"))
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("RESULT=")]
    loaded = json.loads(line.removeprefix("RESULT="))
    assert loaded == {
        "class": "JiraServerIntegration",
        "kinds": spec_kinds(),
        "type": PYPROJECT["name"],
        "jq_env": False,  # the image's ENV keeps JQ away from the credentials
    }


@pytest.mark.e2e
def test_entrypoint_stops_on_invalid_settings_without_leaking(replayed: Replayed) -> None:
    result = replayed.run(
        replayed.entrypoint("-p", str(free_port())), offline_env(jira_host=None), timeout=90
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST" in output
    # pyproject.toml was found in the working directory.
    assert f"Integration version: {PYPROJECT['version']}" in output
    for secret in SECRETS:
        assert secret not in output


def spec_kinds() -> list[str]:
    """The kinds .port/spec.yaml declares: main.py must register a handler for each."""
    spec = yaml.safe_load((REPO / ".port/spec.yaml").read_text())
    return sorted(
        resource["kind"] for feature in spec["features"] for resource in feature["resources"]
    )


def offline_env(*, jira_host: str | None) -> dict[str, str]:
    env = {
        "OCEAN__PORT__CLIENT_ID": PORT_CLIENT_ID,
        "OCEAN__PORT__CLIENT_SECRET": PORT_CLIENT_SECRET,
        "OCEAN__PORT__BASE_URL": "http://127.0.0.1:9",
        "OCEAN__EVENT_LISTENER": '{"type":"ONCE"}',
        "OCEAN__INTEGRATION__IDENTIFIER": "jira-replay",
        "OCEAN__INTEGRATION__CONFIG__TOKEN": JIRA_TOKEN,
    }
    if jira_host is not None:
        env["OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST"] = jira_host
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def runnable(module: str) -> bool:
    """Whether ``python -m module`` can start (the package and its ``__main__`` exist)."""
    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ModuleNotFoundError:
        return False


# ======================================================================================
# LOCAL STACK: the ONCE sync and the HEALTHCHECK against the embedded local stack.
# Each test skips until its servers can be started with `python -m`. The CLI flags below
# follow local_stack/{jira_emulator,catalog}/__main__.py; if those CLIs change, only
# JIRA_EMULATOR_ARGS / CATALOG_ARGS (and the health paths) need to follow. The env
# (local_stack_env) and the assertions (assert_once_sync_succeeded) are complete.
# ======================================================================================
JIRA_EMULATOR = "local_stack.jira_emulator"
CATALOG = "local_stack.catalog"
# A small data set; the emulator's default account accepts JIRA_TOKEN as a Bearer PAT.
JIRA_DATA_SET = ["--projects", "2", "--users", "8", "--issues", "40"]
JIRA_EMULATOR_ARGS: list[str] = ["--token", JIRA_TOKEN, *JIRA_DATA_SET]
JIRA_EMULATOR_HEALTH_PATH = "/rest/api/2/serverInfo"
# `python -m local_stack.catalog --port-file F --db PATH --client-id X --client-secret Y`
CATALOG_ARGS: list[str] = ["--client-id", PORT_CLIENT_ID, "--client-secret", PORT_CLIENT_SECRET]
CATALOG_HEALTH_PATH = "/_catalog/health"
EXPECTED_BLUEPRINTS = (blueprints.PROJECT, blueprints.USER, blueprints.ISSUE)


def local_stack_env(*, catalog_url: str, jira_url: str, listener: str) -> dict[str, str]:
    """The variables a user sets on `docker run` (see deploy/ci/*), pointed at the stack.

    The HTTP port is given with `ocean sail -p` (see `sail_args`): port-ocean 0.54.1's CLI
    always passes its own --port default, so APPLICATION__PORT is ignored by `ocean sail`.
    """
    return {
        "OCEAN__PORT__BASE_URL": catalog_url,
        "OCEAN__PORT__CLIENT_ID": PORT_CLIENT_ID,
        "OCEAN__PORT__CLIENT_SECRET": PORT_CLIENT_SECRET,
        "OCEAN__EVENT_LISTENER": json.dumps({"type": listener}),
        "OCEAN__INTEGRATION__IDENTIFIER": "jira-replay",
        "OCEAN__INTEGRATION__CONFIG__JIRA_SERVER_HOST": jira_url,
        "OCEAN__INTEGRATION__CONFIG__TOKEN": JIRA_TOKEN,
        "OCEAN__INITIALIZE_PORT_RESOURCES": "true",
        "OCEAN__SEND_RAW_DATA_EXAMPLES": "false",
        "APPLICATION__PORT": str(free_port()),  # harmless; `-p` is what takes effect
    }


def sail_args(env: Mapping[str, str]) -> list[str]:
    return ["-p", env["APPLICATION__PORT"]]


def catalog_entities(catalog_url: str, blueprint: str) -> list[dict[str, Any]]:
    """The catalog's JSON helper (no auth): every entity of a blueprint."""
    response = httpx.get(f"{catalog_url}/_catalog/entities", params={"blueprint": blueprint})
    response.raise_for_status()
    entities: list[dict[str, Any]] = response.json()["entities"]
    return entities


def assert_once_sync_succeeded(result: subprocess.CompletedProcess[str], catalog_url: str) -> None:
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if "ERROR" in line or "Exception:" in line]
    assert result.returncode == 0, "\n".join([*errors[:20], "--- last output ---", output[-3000:]])
    for secret in SECRETS:
        assert secret not in output
    for blueprint in EXPECTED_BLUEPRINTS:
        entities = catalog_entities(catalog_url, blueprint)
        assert entities, f"no {blueprint} entities after the ONCE sync:\n{output[-3000:]}"


def _local_server(
    tmp_path: Path, name: str, module: str, args: list[str], health_path: str
) -> Iterator[str]:
    """``python -m module`` for one test, or skip while it cannot start yet; its URL."""
    if not runnable(module):
        pytest.skip(f"{module} is not runnable yet (no {module}.__main__)")
    from local_stack.process import start_server

    server = start_server(name, module, args, log_dir=tmp_path, health_path=health_path)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def catalog_server(tmp_path: Path) -> Iterator[str]:
    args = ["--db", str(tmp_path / "catalog.sqlite"), *CATALOG_ARGS]
    yield from _local_server(tmp_path, "catalog", CATALOG, args, CATALOG_HEALTH_PATH)


@pytest.fixture
def jira_server(tmp_path: Path) -> Iterator[str]:
    yield from _local_server(
        tmp_path, "jira", JIRA_EMULATOR, JIRA_EMULATOR_ARGS, JIRA_EMULATOR_HEALTH_PATH
    )


@pytest.mark.e2e
def test_once_sync_from_the_replayed_image(
    replayed: Replayed, catalog_server: str, jira_server: str
) -> None:
    env = local_stack_env(catalog_url=catalog_server, jira_url=jira_server, listener="ONCE")
    result = replayed.run(replayed.entrypoint(*sail_args(env)), env, timeout=300)
    assert_once_sync_succeeded(result, catalog_server)


@pytest.mark.e2e
def test_healthcheck_command_passes_against_the_running_image(
    replayed: Replayed, catalog_server: str
) -> None:
    """Start the image's ENTRYPOINT as a long-running (POLLING) integration and run the
    Dockerfile's own HEALTHCHECK command against it; only its port is changed to the one
    this test chose. No Jira is needed: a failing resync does not stop the server."""
    healthcheck = replayed.final.healthcheck
    assert healthcheck is not None
    env = local_stack_env(
        catalog_url=catalog_server, jira_url="http://127.0.0.1:9", listener="POLLING"
    )
    port = env["APPLICATION__PORT"]
    command = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in healthcheck.command]
    assert command != healthcheck.command, "the HEALTHCHECK should target 127.0.0.1:8000"
    resolved = which(command[0], replayed.env["PATH"])
    assert resolved is not None
    command[0] = resolved
    log_path = replayed.log_dir / f"polling-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            replayed.entrypoint(*sail_args(env)),
            cwd=replayed.workdir,
            env={**replayed.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 60
        check = replayed.run(command, {}, timeout=10)
        while check.returncode != 0 and time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-4000:]
            time.sleep(0.5)
            check = replayed.run(command, {}, timeout=10)
        assert check.returncode == 0, check.stderr + log_path.read_text()[-4000:]
        # And it fails once nothing listens, so it does test something.
        process.terminate()
        process.wait(timeout=30)
        assert replayed.run(command, {}, timeout=10).returncode != 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert all(secret not in log_path.read_text() for secret in SECRETS)
    replayed.assert_workdir_untouched()
