"""The compose images, built without an image builder: the Dockerfile's `app` stage replayed in a
clean environment, then every command the compose services and the image run, run from it.

Why a replay (issue 11): no image builder can build the Dockerfile on the machine `.ci/run` runs
on. It has no Docker engine, and the daemonless builders of Debian 12 (buildah 1.28.2 and podman
4.3.1, both `apt-get install`-able) do run there (`buildah bud --storage-driver vfs --isolation
chroot`; a RUN in a `FROM scratch` container works), but both stop at the first FROM:
python:3.11-slim cannot be pulled (`pinging container registry registry-1.docker.io: ... no such
host`), as no container registry is reachable. Where one is (a GitHub runner has Docker),
`docker compose build` is the real proof. Here the replay does what a build of the `app` stage
does, with a fresh Python 3.11 virtualenv standing for the python:3.11-slim base image:

- the build context is the checkout as git sees it (a clean clone, plus new files) less what
  .dockerignore excludes, so a COPY of a missing or excluded file fails as the build would;
- COPY puts exactly the files it names into a stand-in image filesystem (outside the checkout),
  WORKDIR and ENV are applied, and each `RUN pip install ...` runs under /bin/sh, as the builder
  runs it, with the venv's pip first on PATH (its packages come from the package index);
- the one other RUN, useradd, is not replayed (it would change this machine, not an image), and
  any RUN the replay does not know fails it, so a new kind of build step cannot pass unseen.

The replayed image then runs: `import app`, every compose service's command with `--help` in its
own environment, `alembic upgrade head` (the `migrate` service) on SQLite, and the image's CMD,
the API server, until it answers /health. The replay runs as the current user; the image runs its
services as `inlet`. The `frontend` stage (npm ci, vite build) is not replayed: its COPY sources
are checked, and `make web` builds the same page in CI.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from local.processes import free_port, process_group

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"

# What python:3.11-slim itself sets, and its PATH (the venv's bin/ goes first: it stands for
# /usr/local/bin, where the base image's python and pip live).
BASE_ENV = {"LANG": "C.UTF-8"}
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# This machine's way to the package index (mirrors, certificates, proxies), which a build gets
# from its builder's network settings; the Dockerfile's own ENV wins over it.
NETWORK = re.compile(
    r"PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|TRUSTED_HOST|CERT|DEFAULT_TIMEOUT)"
    r"|(?i:https?_proxy|no_proxy)|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|HOME"
)
# RUN steps the replay knows and leaves out, with the reason.
NOT_REPLAYED = {"useradd": "adds the image's user: a change to this machine, not to an image"}
PIP_INSTALL = re.compile(r"\bpip\s+install\b")
INSTALL_TIMEOUT = 900


class ReplayError(Exception):
    """The Dockerfile would not build: what failed, and where."""


# --- the Dockerfile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str  # upper case
    value: str  # the rest, continuation lines joined

    def exec_form(self) -> list[str] | None:
        """`["a", "b"]` as a list (RUN, CMD, COPY), None for the shell form."""
        if not self.value.startswith("["):
            return None
        parsed = json.loads(self.value)
        assert isinstance(parsed, list), self
        assert all(isinstance(v, str) for v in parsed), self
        return parsed

    def __str__(self) -> str:
        return f"Dockerfile line {self.line}: {self.keyword} {self.value}"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def cmd(self) -> list[str] | None:
        cmds = self.all("CMD")
        return cmds[-1].exec_form() if cmds else None


def parse(text: str) -> list[Stage]:
    """The stages of a Dockerfile: comments and blank lines dropped, `\\` continuations joined (a
    comment line inside a continuation is dropped, as Docker does)."""
    stages: list[Stage] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        start, sofar = pending if pending else (number, "")
        joined = sofar + raw.rstrip()
        if joined.endswith("\\"):
            pending = (start, joined[:-1])
            continue
        pending = None
        keyword, _, value = joined.strip().partition(" ")
        instruction = Instruction(start, keyword.upper(), value.strip())
        if instruction.keyword == "FROM":
            words = [w for w in instruction.value.split() if not w.startswith("--platform=")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            assert len(words) in (1, 3), instruction
            stages.append(Stage(base=words[0], name=name))
        elif not stages:
            assert instruction.keyword == "ARG", f"{instruction}: before the first FROM"
        else:
            stages[-1].instructions.append(instruction)
    assert pending is None, "the Dockerfile ends inside a continuation"
    return stages


def render(stages: list[Stage]) -> str:
    """Stages back to Dockerfile text (one line per instruction)."""
    lines = []
    for stage in stages:
        lines.append(f"FROM {stage.base}" + (f" AS {stage.name}" if stage.name else ""))
        lines += [f"{i.keyword} {i.value}" for i in stage.instructions]
    return "\n".join(lines) + "\n"


def stage_named(stages: list[Stage], name: str) -> Stage:
    found = [s for s in stages if s.name == name]
    assert len(found) == 1, f"one stage named {name}, found {len(found)}"
    return found[0]


def env_pairs(instruction: Instruction) -> dict[str, str]:
    """ENV A=1 B="two words", or the old form ENV A some value."""
    words = shlex.split(instruction.value)
    if all("=" in w for w in words):
        return dict(w.split("=", 1) for w in words)
    return {words[0]: " ".join(words[1:])}


# --- the build context ------------------------------------------------------------------------


def translate(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match, plus `**` for any number of directories)."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex)


def ignore_rules(context: Path) -> list[tuple[re.Pattern[str], bool]]:
    """(pattern, is an exception `!...`) for each line of .dockerignore, in order."""
    path = context / ".dockerignore"
    rules = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
        rules.append((translate(pattern), negated))
    return rules


def ignored(path: str, rules: list[tuple[re.Pattern[str], bool]]) -> bool:
    """Excluded if the last rule matching the path, or a folder it is in, is not an exception."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for regex, negated in rules:
        if any(regex.fullmatch(p) for p in prefixes):
            verdict = not negated
    return verdict


def build_context(context: Path) -> dict[str, Path]:
    """What `docker build <context>` sends: relative path -> file. In a git checkout, the files a
    clean clone has (plus new ones not ignored), so a local leftover cannot hide a missing file."""
    if (context / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=context,
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = [n for n in listed.split("\0") if n and (context / n).is_file()]
    else:
        names = [p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file()]
    rules = ignore_rules(context)
    return {n: context / n for n in sorted(names) if not ignored(n, rules)}


def copies(
    instruction: Instruction, context: dict[str, Path], workdir: PurePosixPath
) -> list[tuple[str, PurePosixPath]]:
    """COPY (not --from): (context path, image path) of every file it copies; ReplayError if a
    source is not in the build context (missing, or excluded by .dockerignore)."""
    words = instruction.exec_form() or instruction.value.split()
    flags = [w for w in words if w.startswith("--")]
    words = [w for w in words if not w.startswith("--")]
    assert not any(f.startswith("--from=") for f in flags), instruction
    assert len(words) >= 2, instruction
    *sources, target = words
    dest = workdir / target  # an absolute target stays absolute
    into_folder = target.endswith("/") or target in (".", "./") or len(sources) > 1
    planned = []
    for source in sources:
        name = posixpath.normpath(source.lstrip("/"))
        wildcard = any(c in name for c in "*?")
        if wildcard:
            files = [n for n in context if translate(name).fullmatch(n)]
        else:
            files = [n for n in context if name == "." or n == name or n.startswith(name + "/")]
        if not files:
            raise ReplayError(
                f"{instruction}: {source} is not in the build context "
                "(missing, or excluded by .dockerignore)"
            )
        for file in files:
            if wildcard:
                planned.append((file, dest / posixpath.basename(file)))
            elif file == name:  # a file: into the folder, or as the target itself
                planned.append((file, dest / posixpath.basename(file) if into_folder else dest))
            else:  # a folder's files, below the target
                relative = file if name == "." else file[len(name) + 1 :]
                planned.append((file, dest / relative))
    return planned


# --- the replay -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """A replayed stage: its filesystem under `root`, its Python in `venv`."""

    root: Path
    venv: Path
    workdir: PurePosixPath
    env: dict[str, str]
    cmd: list[str] | None
    user: str | None

    def host(self, path: PurePosixPath | str) -> Path:
        """Where an image path is on this machine."""
        return self.root / str(self.workdir / path).lstrip("/")

    def run(
        self, argv: list[str], env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """`argv` from the WORKDIR with the image's environment (and `env`) only: its programs come
        from the venv, nothing from this checkout or this test's Python is importable."""
        return subprocess.run(
            argv,
            cwd=self.host("."),
            env=self.env | (env or {}),  # argv[0] is looked up on this PATH
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def base_python(base: str) -> str:
    """The interpreter that stands for a python:X.Y... base image."""
    match = re.fullmatch(r"(?:docker\.io/(?:library/)?)?python:(\d+)\.(\d+)[\w.-]*", base)
    if not match:
        raise ReplayError(f"FROM {base}: the replay stands in for python:X.Y images only")
    version = (int(match.group(1)), int(match.group(2)))
    if sys.version_info[:2] == version:
        return sys.executable
    found = shutil.which("python{}.{}".format(*version))
    if not found:
        raise ReplayError(f"FROM {base}: no python{version[0]}.{version[1]} on this machine")
    return found


def network_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if NETWORK.fullmatch(k)}


def check_runs(stage: Stage) -> None:
    """Every RUN is one the replay runs (pip) or knows to leave out."""
    for run in stage.all("RUN"):
        words = run.exec_form() or run.value.split()
        if words[0] not in NOT_REPLAYED and not PIP_INSTALL.search(run.value):
            raise ReplayError(f"{run}: not a step the replay knows (teach test_dockerfile.py)")


def base_venv(base: str, venv: Path) -> Path:
    """A new virtualenv at `venv`: the base image's Python, with nothing installed but pip."""
    made = subprocess.run(
        [base_python(base), "-m", "venv", str(venv)], capture_output=True, text=True, check=False
    )
    if made.returncode:
        raise ReplayError(f"FROM {base}: python -m venv failed:\n{made.stderr}")
    return venv


def replay(
    dockerfile: str, context: Path, target: str, into: Path, venv: Path | None = None
) -> Image:
    """Build stage `target` of `dockerfile` (text) from `context` into the folder `into`, as far as
    it can be done without an image builder; `venv`: a fresh base_venv to use, rather than make
    one. ReplayError when the build would fail."""
    stages = parse(dockerfile)
    stage = stage_named(stages, target)
    files = build_context(context)
    if any(s.name == stage.base for s in stages):
        raise ReplayError(f"{target} is FROM stage {stage.base}: replay that stage instead")
    base_python(stage.base)
    # Before anything slow: the files every COPY needs, and no RUN the replay does not know.
    workdir = PurePosixPath("/")
    for instruction in stage.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = workdir / instruction.value
        elif instruction.keyword == "COPY":
            copies(instruction, files, workdir)
    check_runs(stage)

    root = into / "rootfs"
    root.mkdir(parents=True)
    venv = venv or base_venv(stage.base, into / "python")
    env = network_env() | BASE_ENV | {"PATH": f"{venv / 'bin'}:{BASE_PATH}"}
    image = Image(root, venv, PurePosixPath("/"), env, None, None)
    for instruction in stage.instructions:
        keyword = instruction.keyword
        if keyword == "ENV":
            image = replace(image, env=image.env | env_pairs(instruction))
        elif keyword == "ARG":  # its default, seen by the RUN steps after it
            name, has_default, default = instruction.value.partition("=")
            if has_default:
                image = replace(image, env={name: default} | image.env)
        elif keyword == "WORKDIR":
            image = replace(image, workdir=image.workdir / instruction.value)
            image.host(".").mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            for source, dest in copies(instruction, files, image.workdir):
                host = root / str(dest).lstrip("/")
                host.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(files[source], host)
        elif keyword == "RUN":
            words = instruction.exec_form() or instruction.value.split()
            if words[0] in NOT_REPLAYED:
                continue
            argv = instruction.exec_form() or ["/bin/sh", "-c", instruction.value]
            image.host(".").mkdir(parents=True, exist_ok=True)
            done = image.run(argv, timeout=INSTALL_TIMEOUT)
            if done.returncode:
                raise ReplayError(
                    f"{instruction}: exit code {done.returncode}\n{done.stdout}\n{done.stderr}"
                )
        elif keyword == "CMD":
            image = replace(image, cmd=instruction.exec_form())
        elif keyword == "USER":
            image = replace(image, user=instruction.value)
        elif keyword not in ("EXPOSE", "LABEL"):
            raise ReplayError(f"{instruction}: not an instruction the replay knows")
    return image


# --- the compose services ---------------------------------------------------------------------


def interpolate(value: object) -> str:
    """`${NAME:-default}` as compose expands it when NAME is unset."""
    pattern = r"\$\{[A-Z0-9_]+(?::-([^}]*))?\}"
    return re.sub(pattern, lambda m: m.group(1) or "", str(value)).strip()


def inlet_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    return {n: s for n, s in services.items() if "build" in s}


def service_env(service: dict[str, Any]) -> dict[str, str]:
    return {k: interpolate(v) for k, v in (service.get("environment") or {}).items()}


def commands() -> dict[str, tuple[list[str], dict[str, str]]]:
    """Every command the image runs: each Inlet service's (in its environment), and the CMD of
    the `app` and `web` stages (in the api and web services' environments)."""
    services = inlet_services()
    found = {
        name: ([interpolate(w) for w in service["command"]], service_env(service))
        for name, service in services.items()
    }
    stages = parse(DOCKERFILE.read_text())
    for target, service in (("app", "api"), ("web", "web")):
        cmd = stage_named(stages, target).cmd()
        assert cmd, f"stage {target} has an exec-form CMD"
        found[f"CMD of {target}"] = (cmd, service_env(services[service]))
    return found


def help_command(command: list[str]) -> list[str]:
    """The command's program and subcommands, its options replaced by --help."""
    head = 3 if command[:2] == ["python", "-m"] else 1
    words = command[:head]
    for word in command[head:]:
        if word.startswith("-"):
            break
        words.append(word)
    return [*words, "--help"]


def module_file(module: str) -> list[str]:
    base = module.replace(".", "/")
    return [f"{base}.py", f"{base}/__main__.py"]


# --- fast: the Dockerfile read against the checkout -------------------------------------------


def test_stages() -> None:
    stages = parse(DOCKERFILE.read_text())
    assert [(s.name, s.base) for s in stages] == [
        ("frontend", "node:20-slim"),
        ("app", "python:3.11-slim"),
        ("web", "app"),
    ]
    app = stage_named(stages, "app")
    assert [w.value for w in app.all("WORKDIR")] == ["/app"]
    assert app.cmd() == commands()["api"][0], "the image runs the API as compose does"
    assert app.all("USER")[-1].value == "inlet"
    web = stage_named(stages, "web")
    served = web.cmd() or []
    assert served == commands()["web"][0], "the web stage serves the page as compose does"
    assert served[:4] == ["python", "-m", "local.web", "serve"], "served, never published"


def test_every_copy_is_in_the_build_context() -> None:
    """What the build would fail on first: a COPY of a file it cannot find."""
    files = build_context(ROOT)
    assert "app.py" in files
    assert not any(n.startswith((".git/", ".venv/", "infra/", "tests/")) for n in files)
    for stage in parse(DOCKERFILE.read_text()):
        workdir = PurePosixPath("/")
        for instruction in stage.instructions:
            if instruction.keyword == "WORKDIR":
                workdir = workdir / instruction.value
            elif instruction.keyword == "COPY" and "--from=" not in instruction.value:
                assert copies(instruction, files, workdir), instruction


def test_every_module_the_image_runs_is_copied() -> None:
    """`python -m X` needs X's file in the image, below the WORKDIR (on its import path)."""
    app = stage_named(parse(DOCKERFILE.read_text()), "app")
    copied = {
        str(dest.relative_to("/app"))
        for instruction in app.all("COPY")
        for _, dest in copies(instruction, build_context(ROOT), PurePosixPath("/app"))
    }
    assert {"app.py", "alembic.ini", ".chalice/config.json"} <= copied
    assert any(n.startswith("migrations/versions/") for n in copied)
    ran = {name: command for name, (command, _) in commands().items()}
    assert {"init", "pump", "api", "migrate", "web", "CMD of app", "CMD of web"} <= set(ran)
    for name, command in ran.items():
        if command[:2] == ["python", "-m"]:
            assert set(module_file(command[2])) & copied, (name, command)
            assert command[2].startswith("local."), (name, "the local runtime runs the stack")
        else:
            assert command[0] == "alembic", (name, command)


def test_every_run_is_known() -> None:
    app = stage_named(parse(DOCKERFILE.read_text()), "app")
    check_runs(app)
    assert any(PIP_INSTALL.search(r.value) for r in app.all("RUN"))


def test_dockerignore_patterns() -> None:
    rules = [(translate(p), n) for p, n in [("**/__pycache__", False), ("*.egg-info", False)]]
    rules += [(translate("frontend/dist"), False), (translate("docs"), False)]
    rules += [(translate("docs/keep.md"), True)]
    assert ignored("chalicelib/__pycache__/x.pyc", rules)
    assert ignored("__pycache__/x.pyc", rules)
    assert ignored("inlet.egg-info/PKG-INFO", rules)
    assert not ignored("chalicelib/a.egg-info", rules)  # `*` stays within one folder level
    assert ignored("frontend/dist/index.html", rules)
    assert not ignored("frontend/distant.ts", rules)
    assert ignored("docs/minio.md", rules)
    assert not ignored("docs/keep.md", rules)


# --- fast: the replay fails where the build would ---------------------------------------------


def with_pip_line(line: str) -> str:
    """The Dockerfile with its pip RUN replaced by `line`."""
    stages = parse(DOCKERFILE.read_text())
    app = stage_named(stages, "app")
    app.instructions = [
        Instruction(i.line, "RUN", line) if PIP_INSTALL.search(i.value) else i
        for i in app.instructions
    ]
    return render(stages)


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One base venv for the replays below, none of which gets as far as installing anything."""
    return base_venv("python:3.11-slim", tmp_path_factory.mktemp("base") / "python")


def test_replay_fails_on_a_broken_pip_line(tmp_path: Path, fresh_venv: Path) -> None:
    """Issue 11: alembic looked up in requirements-dev.txt, which no longer lists it. The grep
    finds nothing, pip gets an empty requirement and stops before it downloads anything."""
    old = """pip install -r requirements.txt "$(grep -E '^alembic' requirements-dev.txt)\""""
    with pytest.raises(ReplayError, match="Invalid requirement: ''"):
        replay(with_pip_line(old), ROOT, "app", tmp_path, fresh_venv)


def test_replay_fails_when_the_chalice_pin_is_gone(tmp_path: Path, fresh_venv: Path) -> None:
    """The Dockerfile's own guard: no `chalice==` in requirements-dev.txt stops the build."""
    context = tmp_path / "context"
    context.mkdir()
    for name in build_context(ROOT):
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, context / name)
    dev = context / "requirements-dev.txt"
    dev.write_text(re.sub(r"(?m)^chalice==.*$", "", dev.read_text()))
    with pytest.raises(ReplayError, match="pins no chalice"):
        replay(DOCKERFILE.read_text(), context, "app", tmp_path / "image", fresh_venv)


@pytest.mark.parametrize(
    "copy",
    [
        "COPY infra/ infra/",  # the old image's folder: now excluded by .dockerignore
        "COPY nowhere.py ./",
        "COPY requirements.txt requirements-local.txt ./",
    ],
)
def test_replay_fails_on_a_missing_copy(tmp_path: Path, copy: str) -> None:
    text = DOCKERFILE.read_text().replace("\nCOPY app.py ", f"\n{copy}\nCOPY app.py ", 1)
    assert copy in text
    with pytest.raises(ReplayError, match="is not in the build context"):
        replay(text, ROOT, "app", tmp_path)
    assert not (tmp_path / "python").exists(), "found before anything was installed"


def test_replay_refuses_a_step_it_does_not_know(tmp_path: Path) -> None:
    text = DOCKERFILE.read_text().replace(
        "\nRUN useradd", "\nRUN apt-get update && apt-get install -y curl\nRUN useradd", 1
    )
    with pytest.raises(ReplayError, match="not a step the replay knows"):
        replay(text, ROOT, "app", tmp_path)


# --- slow: the image replayed, and run -------------------------------------------------------


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The `app` stage replayed (its pip install comes from the package index: a minute or two)."""
    try:
        return replay(DOCKERFILE.read_text(), ROOT, "app", tmp_path_factory.mktemp("image"))
    except ReplayError as error:
        pytest.fail(f"the app image does not build:\n{error}")


@pytest.fixture(scope="module")
def database(image: Image, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database migrated by the `migrate` service's command, run in the image."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'inlet.db'}"
    env = service_env(inlet_services()["migrate"]) | {"DATABASE_URL": url}
    migrate = image.run(commands()["migrate"][0], env=env)
    assert migrate.returncode == 0, migrate.stderr
    heads = image.run(["alembic", "-c", "alembic.ini", "heads"], env=env)
    current = image.run(["alembic", "-c", "alembic.ini", "current"], env=env)
    assert heads.returncode == current.returncode == 0, heads.stderr + current.stderr
    head = heads.stdout.split()[0]
    assert head in current.stdout, (heads.stdout, current.stdout)
    return url


@pytest.mark.slow
def test_the_image_holds_only_what_it_copies(image: Image) -> None:
    workdir = image.host(".")
    assert (workdir / "app.py").is_file()
    assert (workdir / "local" / "api_server.py").is_file()
    assert not (workdir / "infra").exists()
    assert not (workdir / "requirements-infra.txt").exists()
    installed = image.run(["pip", "list", "--format=json"])
    names = {p["name"].lower() for p in json.loads(installed.stdout)}
    assert {"chalice", "alembic", "sqlalchemy", "psycopg", "boto3"} <= names
    assert not {"pytest", "moto", "aws-cdk-lib", "ruff"} & names, "no dev tools in the image"


@pytest.mark.slow
def test_app_imports_with_the_api_environment(image: Image) -> None:
    api = service_env(inlet_services()["api"])
    probe = (
        "import app, chalicelib.db as db; "
        "print(sorted(app.app.routes)); "
        "print(db.make_engine(app.settings().database_url).dialect.driver)"
    )
    done = image.run(["python", "-c", probe], env=api)
    assert done.returncode == 0, done.stderr
    routes, driver = done.stdout.splitlines()[-2:]
    assert "/health" in routes
    assert driver == "psycopg", "compose's postgresql:// URL gets the installed driver"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_runs_in_the_image(image: Image, name: str) -> None:
    """Each service's program exists in the image and starts (its modules import) in the
    service's own environment: the command, its options replaced by --help."""
    command, env = commands()[name]
    done = image.run(help_command(command), env=env)
    assert done.returncode == 0, (help_command(command), done.stdout, done.stderr)
    assert "usage" in done.stdout.lower(), done.stdout


@pytest.mark.slow
def test_the_web_page_lands_where_local_web_reads_it(image: Image) -> None:
    stages = parse(DOCKERFILE.read_text())
    frontend, web = stage_named(stages, "frontend"), stage_named(stages, "web")
    (copy,) = web.all("COPY")
    source, target = copy.value.split()[1:]
    assert copy.value.split()[0] == "--from=frontend"
    built = PurePosixPath(frontend.all("WORKDIR")[-1].value) / "dist"
    assert PurePosixPath(source) == built, "vite writes dist/ below the frontend WORKDIR"
    env = service_env(inlet_services()["web"])
    done = image.run(["python", "-c", "import local.web as w; print(w.DIST_DIR)"], env=env)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == image.host(target)


@pytest.mark.slow
def test_the_web_stage_serves_the_page(image: Image, tmp_path: Path) -> None:
    """The web stage's CMD, on a free port of 127.0.0.1, serves the page from where the stage
    copies the build (a stand-in build: the frontend stage is not replayed) with the compose
    service's config.json and a policy naming the API and LocalStack's published port."""
    web = stage_named(parse(DOCKERFILE.read_text()), "web")
    (copy,) = web.all("COPY")
    dist = image.host(copy.value.split()[-1])
    assert not dist.parent.exists(), "the app stage holds no page"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<!doctype html><script src="./assets/a.js"></script>')
    (dist / "assets" / "a.js").write_text("console.log('inlet')")
    command, port = list(web.cmd() or []), str(free_port())
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = port
    env = image.env | service_env(inlet_services()["web"])
    log = tmp_path / "web.log"
    base = f"http://127.0.0.1:{port}"
    try:
        with process_group(command, log, cwd=image.host("."), env=env) as process:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/config.json", timeout=10) as r:
                        config = json.load(r)
                        policy = r.headers["Content-Security-Policy"]
                    break
                except OSError:
                    assert process.poll() is None, f"{command} exited:\n{log.read_text()}"
                    assert time.monotonic() < deadline, f"no answer in 60 s:\n{log.read_text()}"
                    time.sleep(0.2)
            with urllib.request.urlopen(f"{base}/", timeout=10) as r:
                assert r.headers["Content-Type"] == "text/html; charset=utf-8"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                assert b"./assets/a.js" in r.read()
    finally:
        shutil.rmtree(dist.parent)  # the replayed app stage, as it was
    assert config["apiUrl"] == "http://localhost:8000"
    assert config["authRequired"] is True
    assert "connect-src 'self' http://localhost:8000 http://localhost:4566;" in policy


@pytest.mark.slow
def test_the_image_serves_the_api(image: Image, database: str, tmp_path: Path) -> None:
    """The image's CMD, the API, on a free port of 127.0.0.1 and the migrated database, answers
    /health: the database is there (the bucket is not: no LocalStack here)."""
    assert image.cmd
    command, port = list(image.cmd), str(free_port())
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = port
    env = image.env | service_env(inlet_services()["api"]) | {"DATABASE_URL": database}
    log = tmp_path / "api.log"
    with process_group(command, log, cwd=image.host("."), env=env) as process:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as r:
                    body = json.load(r)
                break
            except urllib.error.HTTPError as error:  # 503: a check failed, but the API answered
                body = json.load(error)
                break
            except OSError:
                assert process.poll() is None, f"{command} exited:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"no answer in 60 s:\n{log.read_text()}"
                time.sleep(0.2)
    assert body["checks"]["db"] == "ok", body
