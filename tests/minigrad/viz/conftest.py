"""Every test here draws graphs its builders record: the renderer needs what
``minigrad.viz.recording()`` learns of each node (scopes, shapes, values). This fixture records
each test's forward passes (not its gradients: a test asks for those with ``recording()`` around
its backward). Tests marked ``unrecorded`` (what happens without a recorder) run bare."""
import pytest

from minigrad import listen
from minigrad.viz import Recorder


class NodesOnly(Recorder):
    """Records the nodes, not the backward steps."""

    on_backward = None


def pytest_configure(config):
    config.addinivalue_line("markers", "unrecorded: run without recording the graph's nodes")


@pytest.fixture(autouse=True)
def record_nodes(request):
    if request.node.get_closest_marker("unrecorded"):
        yield
        return
    with listen(NodesOnly()):
        yield
