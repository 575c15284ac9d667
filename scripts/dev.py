#!/usr/bin/env python3
"""Set up and run minigrad from nothing but Python 3.10+.

    python3 scripts/dev.py demo     # create .venv on first use, install, run the demo
    python3 scripts/dev.py test     # create .venv on first use, install with test extras, run pytest

Installs the system Graphviz (`dot`), and for `test` headless Chromium (the explorable page's
browser tests), with apt-get when run as root and they are missing; otherwise prints the command
that would. Everything else goes into ./.venv.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"


def run(*cmd, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


APT_LOG = ROOT / "apt-get.log"
PIP_LOG = ROOT / "pip-install.log"


def apt_install(*packages: str) -> None:
    """apt-get install, its ~50 lines of output sent to apt-get.log: one line here."""
    print(f"+ apt-get install {' '.join(packages)}  (output in {APT_LOG.name})", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(APT_LOG, "a") as log:
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
            if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env).returncode:
                raise SystemExit(f"{' '.join(cmd)} failed: see {APT_LOG}")


def ensure_system_tool(commands: tuple, package: str, without_it: str) -> None:
    """Install Debian's ``package`` when none of ``commands`` is on PATH (as root, quietly);
    otherwise say what is missing, what that means, and the command that would install it."""
    if any(shutil.which(c) for c in commands):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        apt_install(package)
    else:
        print(f"{commands[0]} is missing: {without_it}.\n"
              f"Install it with:  sudo apt-get install {package}", flush=True)


def ensure_graphviz() -> None:
    ensure_system_tool(("dot",), "graphviz", "pictures will be written as .dot source only")


def ensure_chromium() -> None:
    """Headless Chromium, for the explorable page's browser tests (they skip without it)."""
    ensure_system_tool(("chromium", "chromium-browser"), "chromium",
                       "the explorable page's browser tests will skip")


def ensure_venv(extras: str) -> None:
    stamp = VENV / f".installed-{extras}"
    if not PYTHON.exists():
        try:
            run(sys.executable, "-m", "venv", VENV)
        except subprocess.CalledProcessError:
            if os.geteuid() == 0 and shutil.which("apt-get"):  # Debian's python3 lacks ensurepip
                apt_install("python3-venv")
                shutil.rmtree(VENV, ignore_errors=True)
                run(sys.executable, "-m", "venv", VENV)
            else:
                raise SystemExit("python3 -m venv failed: install python3-venv (sudo apt-get install python3-venv)")
    if not stamp.exists():
        pip_install("--upgrade", "pip")
        pip_install("-e", f".[{extras}]")
        stamp.touch()


def pip_install(*args: str) -> None:
    """pip install into .venv, its build warnings sent to pip-install.log: one line here."""
    print(f"+ pip install {' '.join(args)}  (output in {PIP_LOG.name})", flush=True)
    with open(PIP_LOG, "a") as log:
        done = subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", *args], cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    if done.returncode:
        tail = PIP_LOG.read_text(errors="replace").splitlines()[-15:]
        raise SystemExit("\n".join(tail) + f"\npip install {' '.join(args)} failed: see {PIP_LOG}")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "demo":
        ensure_graphviz()
        ensure_venv("examples")
        return subprocess.call([str(PYTHON), str(ROOT / "examples" / "demo.py"), *argv[1:]], cwd=ROOT)
    if command == "test":
        ensure_graphviz()
        ensure_chromium()
        ensure_venv("test,examples")
        return subprocess.call([str(PYTHON), "-m", "pytest", *argv[1:]], cwd=ROOT)
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
