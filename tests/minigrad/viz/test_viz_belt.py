"""The layout's invariants over every gallery picture (every architecture at every detail level,
stacks, a bidirectional stack, elided steps): measured by belt.py on what Graphviz drew, none
may get worse than layout_baseline.json records (regenerate it with ``python belt.py --json``
only when a change makes a number smaller); the LSTM's essay pictures keep both belts level."""
import json
import warnings
from pathlib import Path

import pytest
from belt import measure
from drawn import needs_dot

from minigrad.viz import draw
from zoo.models import gallery_entries

BASELINE = json.loads((Path(__file__).parent / "layout_baseline.json").read_text())
ENTRIES = {stem: build for stem, _, build in gallery_entries()}
TOLERANCE = 1.0  # points: dot rounds positions to whole points


def measured(stem: str) -> dict:
    """The layout at its natural size, every step drawn (``width=None``): fitted to a page, a
    picture may leave out its middle steps (test_viz_fit.py), and that is another picture."""
    outputs, options = ENTRIES[stem]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return measure(draw(*outputs, **{"width": None, **options}))


def test_the_baseline_covers_every_gallery_picture():
    assert set(BASELINE) == set(ENTRIES)


@needs_dot
@pytest.mark.parametrize("stem", sorted(ENTRIES))
def test_no_invariant_gets_worse(stem):
    """Cells of a row at one height (frames), the C and h lines level (their spread), and the
    number of lines that cross: none grows."""
    now, before = measured(stem), BASELINE[stem]
    assert now["crossings"] <= before["crossings"], (now, before)
    for key in ("frames", "C", "h"):
        assert now[key] <= before[key] + TOLERANCE, (key, now, before)


@needs_dot
@pytest.mark.parametrize("stem", ["lstm-gate", "lstm-concat-gate", "coupled-gate", "gru-gate",
                                  "rnn-gate", "peephole-gate", "clockwork-gate", "lstm-op",
                                  "lstm-concat-op", "coupled-op", "gru-op", "rnn-op"])
def test_the_belts_run_level_across_the_steps(stem):
    """In one row, C along the top and h along the bottom at one height in every step (before
    the state's line was weighted, lstm-gate's C dropped 15.6 points into t = 2)."""
    now = measured(stem)
    assert now["C"] <= TOLERANCE, now
    if stem != "lstm-op":  # its h leaves the last op of t = 0 8 points above the others
        assert now["h"] <= TOLERANCE, now


@needs_dot
def test_the_elided_400_step_picture_has_no_crossing():
    """The elided steps' line into the output stack ran under the whole right half of the
    picture (9 crossings): the elided steps' slots go with them."""
    assert measured("lstm-400-steps")["crossings"] == 0


@needs_dot
def test_in_a_bidirectional_cell_picture_the_end_columns_climb_outside():
    """The line up to a row in the first column climbs left of it, in the last column right of
    it, where no state line runs (8 crossings in the 2-layer, 3-step picture, now 5: in the
    middle column a line up must cross the h and C between the cells it passes)."""
    assert measured("lstm-bidirectional-cell")["crossings"] <= 5
