"""``python -m zoo draw lstm --steps 3``: the same as the ``minigrad`` command."""
import sys

from .cli import main

sys.exit(main())
