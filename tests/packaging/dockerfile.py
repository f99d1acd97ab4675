"""Read a Dockerfile and replay its stages on this machine, without a Docker engine.

The replay follows Docker's semantics closely enough to catch packaging mistakes:

- one host directory (``root``) stands for the filesystem of the stage being built, and is
  emptied between stages, so the final stage holds only what its own ``COPY`` lines bring;
  a ``COPY --from`` copies from the earlier stage's saved tree (a virtualenv copied to a
  different path breaks here exactly as it would in the image);
- ``ARG``/``ENV`` substitution is per instruction, with the values from before it;
- build-context copies honour ``.dockerignore`` with Docker's matching rules;
- ``RUN`` lines go to ``/bin/sh -c`` with the stage's ``ENV``, the container paths that the
  Dockerfile owns (``/opt/venv``, ``/app``, ...) mapped under ``root`` and ``python`` on
  ``PATH`` being an interpreter of the ``FROM`` image's minor version.

Only the instructions this project uses are understood; anything else raises, so a new
instruction in the Dockerfile cannot be skipped silently.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Paths the base image (or the kernel) provides and the replay leaves on the host; every
# other absolute path is owned by the Dockerfile and mapped under the replay's root.
HOST_TREES = ("/tmp", "/dev", "/proc", "/sys", "/run", "/etc", "/nonexistent")
# What python:*-slim images set before our instructions run.
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST_DIRS = frozenset(BASE_PATH.split(":"))


def on_host(path: str) -> bool:
    """Whether a container path is the base image's own (a PATH directory, or a file
    directly in one, or under /tmp, /dev, ...), as opposed to one the Dockerfile creates."""
    if path in HOST_DIRS or str(PurePosixPath(path).parent) in HOST_DIRS:
        return True
    return any(path == tree or path.startswith(tree + "/") for tree in HOST_TREES)


# RUN commands the replay refuses to execute on the host.
HOST_CHANGING = re.compile(
    r"\b(useradd|groupadd|adduser|addgroup|usermod|apt-get|apt|dpkg|chown)\b"
)
# glibc of the Debian release a python:*-slim-<codename> image is built on.
GLIBC_BY_CODENAME = {"bullseye": (2, 31), "bookworm": (2, 36), "trixie": (2, 41)}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int

    def __str__(self) -> str:
        return f"line {self.line}: {self.keyword} {self.value}"


@dataclass
class Stage:
    base: str  # as written, before ARG substitution
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    global_args: dict[str, str | None]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage named {name!r}")

    def base_image(self, stage: Stage) -> str:
        """The stage's FROM image with global ARG defaults substituted."""
        defaults = {k: v or "" for k, v in self.global_args.items()}
        return expand(stage.base, defaults)


# --- parsing ------------------------------------------------------------------------


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (first line number, instruction text) with continuations joined and comments
    (also those inside a continuation) dropped, as Docker does."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if not buffer:
            start = number
        if raw.rstrip().endswith("\\"):
            buffer.append(raw.rstrip()[:-1])
            continue
        buffer.append(raw)
        yield start, "".join(buffer).strip()
        buffer = []
    if buffer:
        yield start, "".join(buffer).strip()


def parse(text: str) -> Dockerfile:
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    for line, content in logical_lines(text):
        keyword, _, value = content.partition(" ")
        keyword = keyword.upper()
        value = value.strip()
        if keyword == "FROM":
            words = [w for w in value.split() if not w.startswith("--platform=")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            if len(words) not in (1, 3):
                raise ValueError(f"line {line}: cannot read FROM {value!r}")
            stages.append(Stage(base=words[0], name=name))
        elif not stages:
            if keyword != "ARG":
                raise ValueError(f"line {line}: only ARG may come before the first FROM")
            name, sep, default = value.partition("=")
            global_args[name.strip()] = default.strip().strip('"') if sep else None
        else:
            stages[-1].instructions.append(Instruction(keyword, value, line))
    if not stages:
        raise ValueError("no FROM instruction")
    return Dockerfile(global_args, stages)


_VAR = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<op>[-+])(?P<word>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def expand(text: str, env: Mapping[str, str]) -> str:
    """Docker's ``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alt}``."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        value = env.get(name, "")
        if match.group("op") == "-":
            return value or match.group("word")
        if match.group("op") == "+":
            return match.group("word") if value else ""
        return value

    return _VAR.sub(replace, text)


def words(text: str, env: Mapping[str, str]) -> list[str]:
    """Split like Docker's shell lexer: quotes group, ``\\`` escapes, variables expand
    outside single quotes."""
    result: list[str] = []
    current: list[str] = []
    in_word = False
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            if in_word:
                result.append("".join(current))
                current, in_word = [], False
            i += 1
            continue
        in_word = True
        if char == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
        elif char == "'":
            end = text.index("'", i + 1)
            current.append(text[i + 1 : end])
            i = end + 1
        elif char == '"':
            end = i + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            inner = re.sub(r'\\(["\\$])', r"\1", text[i + 1 : end])
            current.append(expand(inner, env))
            i = end + 1
        elif char == "$":
            match = _VAR.match(text, i)
            if match:
                current.append(expand(match.group(0), env))
                i = match.end()
            else:
                current.append(char)
                i += 1
        else:
            current.append(char)
            i += 1
    if in_word:
        result.append("".join(current))
    return result


def key_values(text: str, env: Mapping[str, str]) -> dict[str, str]:
    """``ENV``/``LABEL`` bodies: ``K=V K2="v 2"``, or the legacy ``ENV K some value``."""
    parts = words(text, env)
    if parts and "=" not in parts[0]:
        return {parts[0]: " ".join(parts[1:])}
    pairs: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"expected KEY=VALUE, got {part!r} in {text!r}")
        pairs[key] = value
    return pairs


def exec_form(value: str) -> list[str] | None:
    """The JSON array of an exec-form ``ENTRYPOINT``/``CMD``/``HEALTHCHECK CMD``, else None."""
    if not value.lstrip().startswith("["):
        return None
    parsed = json.loads(value)
    if not isinstance(parsed, list) or not all(isinstance(p, str) for p in parsed):
        raise ValueError(f"not a JSON array of strings: {value!r}")
    return parsed


@dataclass(frozen=True)
class Copy:
    sources: list[str]
    dest: str
    from_stage: str | None
    flags: dict[str, str]


def parse_copy(value: str, env: Mapping[str, str]) -> Copy:
    parts = words(value, env)
    flags: dict[str, str] = {}
    while parts and parts[0].startswith("--"):
        flag, _, flag_value = parts.pop(0)[2:].partition("=")
        if flag not in ("from", "chown", "chmod", "link"):
            raise NotImplementedError(f"COPY --{flag} is not replayed")
        flags[flag] = flag_value
    if len(parts) == 1 and parts[0].startswith("["):
        parts = exec_form(value.split("]", 1)[0] + "]") or []
    if len(parts) < 2:
        raise ValueError(f"COPY needs a source and a destination: {value!r}")
    return Copy(parts[:-1], parts[-1], flags.get("from"), flags)


@dataclass(frozen=True)
class Healthcheck:
    options: dict[str, str]
    command: list[str]  # exec form; a shell form becomes ["/bin/sh", "-c", text]


def parse_healthcheck(value: str) -> Healthcheck | None:
    if value.strip().upper() == "NONE":
        return None
    options: dict[str, str] = {}
    rest = value.strip()
    while rest.startswith("--"):
        option, _, rest = rest.partition(" ")
        key, _, option_value = option[2:].partition("=")
        options[key] = option_value
        rest = rest.strip()
    keyword, _, command = rest.partition(" ")
    if keyword.upper() != "CMD":
        raise ValueError(f"HEALTHCHECK without CMD: {value!r}")
    parsed = exec_form(command)
    return Healthcheck(options, parsed if parsed is not None else ["/bin/sh", "-c", command])


# --- .dockerignore (moby/patternmatcher semantics) -----------------------------------


@dataclass(frozen=True)
class IgnorePattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]
    depth: int


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern[i : i + 2] == "**":
                i += 2
                if pattern[i : i + 1] == "/":
                    out.append("(.*/)?")  # zero or more directories
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.index("]", i)
            out.append(pattern[i : end + 1].replace("[!", "[^"))
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 1
        else:
            out.append(re.escape(char))
        i += 1
    out.append("$")
    return re.compile("".join(out))


def read_dockerignore(text: str) -> list[IgnorePattern]:
    patterns: list[IgnorePattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        cleaned = os.path.normpath(line).lstrip("/")
        if cleaned in ("", "."):
            continue
        patterns.append(
            IgnorePattern(cleaned, exclusion, _pattern_regex(cleaned), len(cleaned.split("/")))
        )
    return patterns


def is_ignored(path: str, patterns: list[IgnorePattern]) -> bool:
    """Whether a context-relative path is left out of the build context (moby's
    ``MatchesOrParentMatches``): the last pattern matching the path or one of its parent
    directories decides."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        if pattern.exclusion != ignored:
            continue
        if any(pattern.regex.match(candidate) for candidate in candidates):
            ignored = not pattern.exclusion
    return ignored


# --- replay -------------------------------------------------------------------------


class ReplayError(AssertionError):
    pass


@dataclass
class StageResult:
    """What a replayed stage leaves behind, in container terms."""

    stage: Stage
    env: dict[str, str]
    workdir: str
    user: str | None
    entrypoint: list[str] | None
    cmd: list[str] | None
    healthcheck: Healthcheck | None
    exposed: list[str]
    labels: dict[str, str]
    copied: list[str]  # container paths written by COPY (files only)
    saved_tree: Path | None = None  # the stage filesystem, kept for COPY --from


class Replay:
    """Replays stages into ``root`` (a host directory standing for ``/``)."""

    def __init__(
        self,
        dockerfile: Dockerfile,
        *,
        context: Path,
        root: Path,
        scratch: Path,
        shim_bin: Path,
        base_env: Mapping[str, str],
        build_args: Mapping[str, str] | None = None,
    ) -> None:
        self.dockerfile = dockerfile
        self.context = context
        self.root = root
        self.scratch = scratch
        self.shim_bin = shim_bin
        self.base_env = dict(base_env)
        self.build_args = dict(build_args or {})
        ignore_file = context / ".dockerignore"
        self.ignore = read_dockerignore(ignore_file.read_text()) if ignore_file.exists() else []
        self.results: dict[str, StageResult] = {}
        self.skipped_runs: list[str] = []
        self.log: list[str] = []

    # container path <-> host path
    def host(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    def map_value(self, value: str) -> str:
        """Map absolute container paths owned by the Dockerfile (also inside PATH-like
        lists) under ``root``; system paths and plain values stay as they are."""
        components = value.split(":")
        if not all(c.startswith("/") for c in components if c):
            return value
        mapped = []
        for component in components:
            replay_own = Path(component).is_relative_to(self.scratch)  # e.g. the python shim
            owned = component.startswith("/") and not on_host(component) and not replay_own
            mapped.append(str(self.host(component)) if owned else component)
        return ":".join(mapped)

    def host_env(self, env: Mapping[str, str]) -> dict[str, str]:
        return {key: self.map_value(value) for key, value in env.items()}

    def run_stage(self, stage: Stage, *, run_commands: bool = True) -> StageResult:
        """Replay one stage. With ``run_commands`` false, RUN lines are recorded in
        ``skipped_runs`` instead of executed (the caller decides which may be skipped)."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        args = {k: v for k, v in self.dockerfile.global_args.items() if v is not None}
        args.update(self.build_args)
        env: dict[str, str] = {"PATH": f"{self.shim_bin}:{BASE_PATH}", "LANG": "C.UTF-8"}
        stage_args: dict[str, str] = {}
        result = StageResult(stage, env, "/", None, None, None, None, [], {}, [])
        for instruction in stage.instructions:
            scope = {**stage_args, **env}
            keyword, value = instruction.keyword, instruction.value
            if keyword == "ARG":
                name, sep, default = value.partition("=")
                name = name.strip()
                chosen = self.build_args.get(name)
                if chosen is None:
                    chosen = (
                        expand(default.strip().strip('"'), scope) if sep else args.get(name, "")
                    )
                stage_args[name] = chosen
            elif keyword == "ENV":
                env.update(key_values(value, scope))
            elif keyword == "LABEL":
                result.labels.update(key_values(value, scope))
            elif keyword == "WORKDIR":
                path = expand(value, scope)
                result.workdir = str(PurePosixPath(result.workdir, path))
                self.host(result.workdir).mkdir(parents=True, exist_ok=True)
            elif keyword == "COPY":
                self._copy(parse_copy(value, scope), result)
            elif keyword == "RUN":
                if run_commands:
                    self._run(instruction, env, stage_args, result)
                else:
                    self.skipped_runs.append(value)
            elif keyword == "USER":
                result.user = expand(value, scope)
            elif keyword == "EXPOSE":
                result.exposed.extend(words(value, scope))
            elif keyword == "ENTRYPOINT":
                result.entrypoint = exec_form(value)
                if result.entrypoint is None:
                    raise ReplayError(f"{instruction}: use the exec (JSON) form")
            elif keyword == "CMD":
                result.cmd = exec_form(value)
                if result.cmd is None:
                    raise ReplayError(f"{instruction}: use the exec (JSON) form")
            elif keyword == "HEALTHCHECK":
                result.healthcheck = parse_healthcheck(value)
            else:
                raise NotImplementedError(f"{instruction}: not understood by the replay")
        result.env = env
        # Keep this stage's tree for later COPY --from, then free the root for the next.
        saved = self.scratch / f"stage-{len(self.results)}"
        if saved.exists():
            shutil.rmtree(saved)
        result.saved_tree = saved
        self.results[stage.name or str(len(self.results))] = result
        return result

    def build(self) -> StageResult:
        """Replay every stage; intermediate stages are moved aside when done (their paths
        vanish from ``root``, as in Docker). The final stage's RUN lines are not executed
        but recorded in ``skipped_runs``: they create the runtime account, which must not
        happen on this machine."""
        final = self.dockerfile.final
        result: StageResult | None = None
        for stage in self.dockerfile.stages:
            result = self.run_stage(stage, run_commands=stage is not final)
            if stage is not final:
                assert result.saved_tree is not None
                self.root.rename(result.saved_tree)
        assert result is not None
        return result

    def _copy(self, copy: Copy, result: StageResult) -> None:
        dest = str(PurePosixPath(result.workdir, copy.dest))
        dest_is_dir = copy.dest.endswith("/") or len(copy.sources) > 1
        for source in copy.sources:
            if copy.from_stage is not None:
                earlier = self.results.get(copy.from_stage)
                if earlier is None or earlier.saved_tree is None:
                    raise ReplayError(f"COPY --from={copy.from_stage}: no such earlier stage")
                origin = earlier.saved_tree / source.lstrip("/")
                if not origin.exists():
                    raise ReplayError(f"COPY --from={copy.from_stage} {source}: not in that stage")
                entries = list(self._tree(origin, None))
            else:
                origin = self.context / source
                relative = os.path.normpath(source)
                if not origin.exists():
                    raise ReplayError(f"COPY {source}: not in the build context")
                if is_ignored(relative, self.ignore):
                    raise ReplayError(f"COPY {source}: excluded by .dockerignore")
                entries = list(self._tree(origin, relative))
            target_dir: str | None = dest
            if not origin.is_dir() and not (dest_is_dir or self.host(dest).is_dir()):
                target_dir = None  # a single file copied to a file name
            for entry, rel in entries:
                if target_dir is None:
                    container = dest
                else:
                    name = rel if origin.is_dir() else origin.name
                    container = str(PurePosixPath(target_dir, name))
                target = self.host(container)
                target.parent.mkdir(parents=True, exist_ok=True)
                if entry.is_symlink():
                    target.unlink(missing_ok=True)
                    target.symlink_to(os.readlink(entry))
                else:
                    shutil.copy2(entry, target)
                result.copied.append(container)

    def _tree(self, origin: Path, context_rel: str | None) -> Iterator[tuple[Path, str]]:
        """Files under ``origin`` (or the file itself) as (path, path relative to origin),
        skipping what .dockerignore leaves out of the context."""
        if not origin.is_dir():
            yield origin, origin.name
            return
        for dirpath, dirnames, filenames in os.walk(origin):
            base = Path(dirpath)
            for dirname in list(dirnames):
                if (base / dirname).is_symlink():
                    filenames.append(dirname)
                    dirnames.remove(dirname)
            for filename in sorted(filenames):
                entry = base / filename
                rel = entry.relative_to(origin).as_posix()
                if context_rel is not None and is_ignored(f"{context_rel}/{rel}", self.ignore):
                    continue
                yield entry, rel

    def _run(
        self,
        instruction: Instruction,
        env: Mapping[str, str],
        stage_args: Mapping[str, str],
        result: StageResult,
    ) -> None:
        command = instruction.value
        if HOST_CHANGING.search(command):
            raise ReplayError(
                f"{instruction}: would change this machine (accounts, system packages); "
                "the replay runs only install steps that write under the stage's paths"
            )
        literal_paths = re.findall(r"(?<![\w$}./-])(/[\w.+-]+(?:/[\w.+-]+)*)", command)
        for path in literal_paths:
            if not on_host(path):
                raise ReplayError(
                    f"{instruction}: literal path {path}; refer to it through an ENV "
                    "variable so the replay can map it (and never touch the host's)"
                )
        run_env = {**stage_args, **self.base_env, **self.host_env(env)}
        completed = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=self.host(result.workdir),
            env=run_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        self.log.append(f"$ {command}\n{completed.stdout}{completed.stderr}")
        if completed.returncode != 0:
            raise ReplayError(
                f"{instruction} exited {completed.returncode}:\n"
                f"{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
            )


def python_minor(image: str) -> tuple[int, int]:
    match = re.match(r"^(?:[\w.-]+/)*python:(\d+)\.(\d+)", image)
    if not match:
        raise ValueError(f"not an official python image: {image!r}")
    return int(match.group(1)), int(match.group(2))


def find_interpreter(minor: tuple[int, int], extra: list[str] | None = None) -> str | None:
    """A Python of that minor version on this machine (PATH, then pyenv), or None."""
    name = f"python{minor[0]}.{minor[1]}"
    candidates = [*(extra or []), shutil.which(name) or ""]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p / "bin" / name) for p in sorted(pyenv_root.glob(f"versions/{minor[0]}.{minor[1]}.*"))
    ]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == f"{minor[0]}.{minor[1]}":
            return candidate
    return None


def write_python_shim(directory: Path, interpreter: str) -> None:
    """``python``/``python3`` wrappers that exec the real interpreter, standing in for the
    image's /usr/local/bin/python (a wrapper, not a symlink, so venvs record the real home)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3"):
        shim = directory / name
        shim.write_text(f'#!/bin/sh\nexec "{interpreter}" "$@"\n')
        shim.chmod(0o755)


def wheel_glibc_requirements(venv: Path) -> dict[str, tuple[int, int]]:
    """For each installed distribution built for manylinux, the newest glibc its wheel
    tags ask for (the oldest tag is what pip matched on; all tags must be satisfiable)."""
    needs: dict[str, tuple[int, int]] = {}
    for wheel_file in venv.glob("lib/python*/site-packages/*.dist-info/WHEEL"):
        versions: list[tuple[int, int]] = []
        for line in wheel_file.read_text().splitlines():
            if not line.startswith("Tag:"):
                continue
            platform = line.split("-")[-1].strip()
            if platform.startswith("musllinux"):
                versions.append((99, 99))
            legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
            for tag in platform.split("."):
                match = re.match(r"manylinux_(\d+)_(\d+)_", tag)
                if match:
                    versions.append((int(match.group(1)), int(match.group(2))))
                for prefix, version in legacy.items():
                    if tag.startswith(prefix + "_"):
                        versions.append(version)
        if versions:
            needs[wheel_file.parent.name] = min(versions)
    return needs
