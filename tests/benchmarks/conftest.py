"""The benchmarks live outside the installed packages: make ``import benchmarks`` work from any
working directory."""
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
