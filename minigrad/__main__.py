"""``python -m minigrad``: the drawing command lives above the engine package now (it builds its
models with ``nn``, which the engine never imports). Say where."""
import sys

sys.exit("the drawing command moved: run `minigrad draw ...` (installed with the package) "
         "or `python -m zoo draw ...`")
