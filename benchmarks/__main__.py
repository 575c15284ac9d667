import os
import sys

from . import THREAD_VARIABLES

# BLAS and PyTorch read their thread counts when they load: set them before anything imports
# them. Default: one thread (see --threads in run_all.py); --threads 0 leaves the libraries' own.
threads = "1"
for i, arg in enumerate(sys.argv[1:], start=1):
    if arg.startswith("--threads"):
        threads = arg.partition("=")[2] or (sys.argv[i + 1] if i + 1 < len(sys.argv) else "")
if threads != "0":
    for var in THREAD_VARIABLES:
        os.environ[var] = threads

from .run_all import main  # noqa: E402

sys.exit(main())
