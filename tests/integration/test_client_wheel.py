"""The `inlet` client built as a wheel and installed into a venv of its own: it holds nothing but
`inlet/`, imports nothing of the repository (chalicelib, local, infra, app), and talks to a
running stack over HTTP alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.http]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    workdir: Path  # outside the checkout, so nothing of it can be found from the current directory

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`args[0]` from the venv's bin/ (`inlet`, `python`), in a clean environment."""
        clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=self.workdir,
            env=clean | (env or {}),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def checkout_files(target: Path) -> Path:
    """A copy of the checkout as git sees it (tracked files, and new ones not ignored): a stale
    build/ or egg-info cannot leak into the wheel, and nothing is written into the work tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # not deleted in the work tree
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def pip(python: Path | str, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"pip {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """`pip wheel --no-deps` of the project, installed into a fresh venv (its dependencies,
    requests and rich, come from the package index)."""
    base = tmp_path_factory.mktemp("wheel")
    source = checkout_files(base / "src")
    pip(sys.executable, "wheel", "--no-deps", "--wheel-dir", str(base / "dist"), str(source))
    (wheel,) = (base / "dist").glob("inlet-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip(venv / "bin" / "python", "install", str(wheel))
    workdir = base / "work"
    workdir.mkdir()
    return Installed(wheel=wheel, venv=venv, workdir=workdir)


def test_the_wheel_holds_only_the_client(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        names = archive.namelist()
        info = next(n.rsplit("/", 1)[0] for n in names if n.endswith(".dist-info/METADATA"))
        assert archive.read(f"{info}/top_level.txt").decode().split() == ["inlet"]
        assert "[console_scripts]\ninlet = inlet.cli:main" in archive.read(
            f"{info}/entry_points.txt"
        ).decode().replace("\r", "")
    outside = [n for n in names if not n.startswith(("inlet/", f"{info}/"))]
    assert outside == []
    assert "inlet/cli.py" in names

    # What pip installed, as the installed distribution records it.
    listed = installed.run(
        "python",
        "-c",
        "import importlib.metadata as m; print('\\n'.join(map(str, m.files('inlet'))))",
    )
    assert listed.returncode == 0, listed.stderr
    files = listed.stdout.split()
    modules = [f for f in files if f.endswith((".py", ".pyc", ".so"))]
    assert modules
    assert [f for f in modules if not f.startswith("inlet/")] == []


def test_the_installed_client_imports_nothing_of_the_repository(installed: Installed) -> None:
    """Every module of the installed package imports, from the venv, with nothing else
    (`inlet.__main__` is `python -m inlet` itself, run below)."""
    probe = (
        "import importlib, json, pkgutil, sys\n"
        "import inlet\n"
        "names = [m.name for m in pkgutil.walk_packages(inlet.__path__, 'inlet.')]\n"
        "for name in names:\n"
        "    if name == 'inlet.__main__':\n"
        "        continue\n"
        "    importlib.import_module(name)\n"
        "tops = sorted({n.split('.')[0] for n in sys.modules})\n"
        "files = [m.__file__ for n, m in sys.modules.items() if n.startswith('inlet')]\n"
        "print(json.dumps({'names': names, 'tops': tops, 'files': files}))\n"
    )
    result = installed.run("python", "-c", probe)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert {"inlet.cli", "inlet.api", "inlet.upload", "inlet.download", "inlet.retry"} <= set(
        found["names"]
    )
    assert not {"chalicelib", "local", "infra", "app", "tests"} & set(found["tops"])
    site = str(installed.venv.resolve())
    assert all(str(Path(f).resolve()).startswith(site) for f in found["files"]), found["files"]


def test_the_installed_client_against_the_stack(
    installed: Installed, stack: Stack, tmp_path: Path
) -> None:
    env = {"INLET_API_URL": stack.api_url, "INLET_STATE_DIR": str(tmp_path / "state")}

    helped = installed.run("inlet", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "Upload files to Inlet, inspect runs, download their files." in helped.stdout
    commands = helped.stdout.split("\n  COMMAND\n", 1)[1].split("\n\n")[0].split("\n")
    assert [line.split()[0] for line in commands] == [
        "upload",
        "runs",
        "run",
        "cancel",
        "download",
        "health",
        "limits",
    ]
    no_admin = installed.run("inlet", "admin", "list-tokens")
    assert no_admin.returncode == 2
    assert "invalid choice: 'admin'" in no_admin.stderr
    version = installed.run("python", "-m", "inlet", "--version")
    assert (version.returncode, version.stdout.strip()) == (0, "inlet 0.1.0")

    health = installed.run("inlet", "health", "--json", env=env)
    assert health.returncode == 0, health.stderr
    assert json.loads(health.stdout) == {"status": "ok", "checks": {"db": "ok", "storage": "ok"}}

    data = tmp_path / "from-the-wheel.conf"
    data.write_bytes(os.urandom(1000))
    args = ("upload", str(data), "--type", "single_conf", "--label", "wheel", "--wait", "--json")
    uploaded = installed.run("inlet", *args, "--wait-timeout", "60", env=env)
    assert uploaded.returncode == 0, uploaded.stderr
    run = json.loads(uploaded.stdout)
    assert run["status"] == "stored"
    assert stack.read_object(run["files"][0]["key"]) == data.read_bytes()

    back = tmp_path / "back"
    downloaded = installed.run("inlet", "download", run["id"], "--out", str(back), env=env)
    assert downloaded.returncode == 0, downloaded.stderr
    assert (back / data.name).read_bytes() == data.read_bytes()

    listed = installed.run("inlet", "runs", "--type", "single_conf", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert run["id"] in [r["id"] for r in json.loads(listed.stdout)["items"]]
    text = installed.run("inlet", "runs", "--limit", "1", env=env)
    assert text.returncode == 0
    assert text.stdout.startswith(run["id"])
