"""The first hour, end to end: build the wheel, install it into a fresh virtual environment,
and in an empty folder run `linkflow init demo && cd demo && linkflow validate && linkflow test
&& pytest`. Slow (a wheel build and a venv), so it is one test.

Offline: the wheel is built without build isolation (setuptools is a test dependency) and
installed with --no-deps; the fresh environment borrows the already-installed dependencies
through a .pth file that adds this environment's site-packages *after* its own. So `engine`,
the `linkflow` script, the pytest plugin's entry point and the schemas all come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result


def test_a_wheel_installed_in_a_fresh_venv_inits_a_project_that_passes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LINKFLOW_SCHEMAS")}
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels)]
    # Build from a copy: setuptools writes build/ and *.egg-info/ into the source folder, and
    # a stale build/lib would slip deleted modules into the wheel.
    source = tmp_path / "source"
    for name in ("engine", "schemas"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    run([*build, str(source)], tmp_path, env)
    (wheel,) = wheels.glob("linkflow-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line.removeprefix("Requires-Dist: ")
            for line in archive.read(metadata).decode("utf-8").splitlines()
            if line.startswith("Requires-Dist: ")
        ]
    assert {name.split("/", 1)[0] for name in names if "/" in name} == {
        "linkflow",
        wheel.name.removesuffix("-py3-none-any.whl") + ".dist-info",
    }
    assert "linkflow/schemas/workflow.schema.json" in names
    assert "linkflow/store/migrations" in {n.rsplit("/", 2)[0] for n in names}
    core = [r for r in requires if "extra ==" not in r]
    for heavy in ("starlette", "uvicorn", "psycopg", "watchfiles", "httptools", "uvloop"):
        assert not [r for r in core if r.startswith(heavy)], core

    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    install = [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)]
    run(install, tmp_path, env)
    fresh_site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            tmp_path,
            env,
        ).stdout.strip()
    )
    (fresh_site / "borrowed_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )

    env["PATH"] = f"{fresh / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(fresh)
    empty = tmp_path / "empty"
    empty.mkdir()
    where = run([str(python), "-c", "import linkflow; print(linkflow.__file__)"], empty, env)
    assert where.stdout.startswith(str(fresh_site)), where.stdout
    linkflow = str(fresh / "bin" / "linkflow")
    run([linkflow, "init", "demo"], empty, env)
    demo = empty / "demo"
    assert run([linkflow, "validate"], demo, env).stdout == "ok: 3 files valid\n"
    assert run([linkflow, "test"], demo, env).stdout.endswith("2 passed, 0 failed\n")
    tests = run([str(python), "-m", "pytest"], demo, env)
    assert "2 passed" in tests.stdout
    schema = run([linkflow, "schema", "scenario", "--path"], demo, env).stdout.strip()
    assert schema.startswith(str(fresh)), schema
