"""Random expression graphs (hypothesis), evaluated by minigrad and by PyTorch (float64):
every node's value, the leaves' gradients and second derivatives must agree.

A program is a list of steps; each step applies one op to earlier nodes (leaves first), so
nodes are reused (fan-out) and gradients meet (fan-in). Every node's shape is broadcastable
to the leaves' common shape, so any two nodes can meet in a binary op.
"""
import numpy as np
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigrad as mg
from op_cases import SETTINGS, assert_close

UNARY = {
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "abs": lambda x: x.abs(),
    "neg": lambda x: -x,
    "exp(tanh)": lambda x: x.tanh().exp(),
    "log(x*x+1)": lambda x: (x * x + 1.0).log(),
    "sqrt(x*x+1)": lambda x: (x * x + 1.0).sqrt(),
    "tanh**2": lambda x: x.tanh() ** 2,
    "0.5*x+1": lambda x: 0.5 * x + 1.0,
    "2-x/3": lambda x: 2.0 - x / 3.0,
    "clip": lambda x: x.clip(-1.0, 1.0),
}
BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / (b * b + 1.0),
    "maximum": (lambda a, b: a.maximum(b), torch.maximum),
    "minimum": (lambda a, b: a.minimum(b), torch.minimum),
    "where(a>b)": (lambda a, b: mg.where(a > b, a, b * 2.0), lambda a, b: torch.where(a > b, a, b * 2.0)),
}
REDUCE = {  # over one axis, keepdims, so the result still broadcasts against every node
    "sum": (lambda x, a: x.sum(axis=a, keepdims=True), lambda x, a: x.sum(dim=a, keepdim=True)),
    "mean": (lambda x, a: x.mean(axis=a, keepdims=True), lambda x, a: x.mean(dim=a, keepdim=True)),
    "max": (lambda x, a: x.amax(axis=a, keepdims=True), lambda x, a: x.amax(dim=a, keepdim=True)),
    "min": (lambda x, a: x.amin(axis=a, keepdims=True), lambda x, a: x.amin(dim=a, keepdim=True)),
    "logsumexp": (lambda x, a: x.logsumexp(axis=a, keepdims=True), lambda x, a: x.logsumexp(dim=a, keepdim=True)),
    "softmax": (lambda x, a: x.softmax(axis=a), lambda x, a: x.softmax(dim=a)),
    "log_softmax": (lambda x, a: x.log_softmax(axis=a), lambda x, a: x.log_softmax(dim=a)),
}


def _pick(fn, library: int):
    return fn[library] if isinstance(fn, tuple) else fn


def run(program, leaves, library: int):
    """Evaluate ``program`` on ``leaves`` with minigrad (library 0) or PyTorch (library 1)."""
    nodes = list(leaves)
    for kind, name, args in program:
        if kind == "unary":
            nodes.append(_pick(UNARY[name], library)(nodes[args[0]]))
        elif kind == "binary":
            nodes.append(_pick(BINARY[name], library)(nodes[args[0]], nodes[args[1]]))
        else:
            node = nodes[args[0]]
            nodes.append(REDUCE[name][library](node, args[1] % node.ndim))
    return nodes


@st.composite
def programs(draw):
    shapes = draw(mutually_broadcastable_shapes(num_shapes=draw(st.integers(1, 3)), min_dims=0,
                                                max_dims=3, min_side=1, max_side=3))
    ndims = [len(s) for s in shapes.input_shapes]
    program = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce"]))
        first = draw(st.integers(0, len(ndims) - 1))
        if kind == "reduce" and ndims[first] == 0:
            kind = "unary"
        if kind == "unary":
            program.append((kind, draw(st.sampled_from(sorted(UNARY))), (first,)))
            ndims.append(ndims[first])
        elif kind == "binary":
            second = draw(st.integers(0, len(ndims) - 1))
            program.append((kind, draw(st.sampled_from(sorted(BINARY))), (first, second)))
            ndims.append(max(ndims[first], ndims[second]))
        else:
            axis = draw(st.integers(0, ndims[first] - 1))
            program.append((kind, draw(st.sampled_from(sorted(REDUCE))), (first, axis)))
            ndims.append(ndims[first])
    return shapes.input_shapes, program


@SETTINGS
@given(case=programs(), seed=st.integers(0, 2**32 - 1))
def test_random_graphs_match_torch(case, seed):
    shapes, program = case
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]

    tleaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    tnodes = run(program, tleaves, 1)
    assume(all(torch.isfinite(t).all() and t.abs().max() < 1e6 for t in tnodes if t.numel()))
    leaves = [mg.tensor(a, requires_grad=True) for a in arrays]
    nodes = run(program, leaves, 0)
    for k, (n, t) in enumerate(zip(nodes, tnodes)):
        assert n.shape == tuple(t.shape), f"node {k}"
        assert_close(n.numpy(), t.detach().numpy(), f"node {k} of {program}")

    weights = [rng.standard_normal(tuple(t.shape)) for t in tnodes]
    loss = sum(((n * mg.tensor(w)).sum() for n, w in zip(nodes, weights)), start=mg.tensor(np.float64(0.0)))
    tloss = sum((t * torch.from_numpy(w)).sum() for t, w in zip(tnodes, weights))
    grads = mg.grad(loss, leaves, create_graph=True)
    tgrads = torch.autograd.grad(tloss, tleaves, create_graph=True)
    for i, (g, tg) in enumerate(zip(grads, tgrads)):
        assert_close(g.numpy(), tg.detach().numpy(), f"gradient of leaf {i} of {program}")

    directions = [rng.standard_normal(s) for s in shapes]
    second = sum(((g * mg.tensor(v)).sum() for g, v in zip(grads, directions)), start=0.0)
    tsecond = sum((g * torch.from_numpy(v)).sum() for g, v in zip(tgrads, directions))
    # a gradient that is constant (linear graph, or only abs/relu/max kinks) records no graph
    hessian_v = (mg.grad(second, leaves, allow_unused=True) if second.requires_grad
                 else [None] * len(leaves))
    thessian_v = (torch.autograd.grad(tsecond, tleaves, allow_unused=True) if tsecond.requires_grad
                  else [None] * len(leaves))
    for i, (h, th) in enumerate(zip(hessian_v, thessian_v)):
        expected = np.zeros(shapes[i]) if th is None else th.numpy(force=True)
        actual = np.zeros(shapes[i]) if h is None else h.numpy()
        assert_close(actual, expected, f"second derivative of leaf {i} of {program}")


@settings(SETTINGS, max_examples=10)
@given(case=programs(), seed=st.integers(0, 2**32 - 1))
def test_random_graphs_backward_equals_grad(case, seed):
    """Tensor.backward and minigrad.grad walk the same graph to the same numbers."""
    shapes, program = case
    arrays = [np.random.default_rng(seed).standard_normal(s) for s in shapes]
    with torch.no_grad():
        tnodes = run(program, [torch.from_numpy(a) for a in arrays], 1)
    assume(all(torch.isfinite(t).all() and t.abs().max() < 1e6 for t in tnodes if t.numel()))
    leaves = [mg.tensor(a, requires_grad=True) for a in arrays]
    loss = run(program, leaves, 0)[-1].sum() * 1.0
    expected = mg.grad(loss, leaves, retain_graph=True, allow_unused=True)
    loss.backward()
    for leaf, g in zip(leaves, expected):
        if g is None:
            assert leaf.grad is None
        else:
            np.testing.assert_array_equal(leaf.grad.numpy(), g.numpy())
