"""Hand-built recurrent graphs for the renderer's tests, made only of minigrad ops.

They follow nn's conventions (docs/architecture.md) without importing nn: parameters are
derived once per call (W^T, b_ih + b_hh), the input is projected for all steps at once and
unbound, each step runs inside ``minigrad.scope(name, layer=l, direction=d, step=t, cell=kind)``
and labels its tensors ``f_t``, ``C_t``, ``h_t``...; the outputs are stacked at the end.
"""
from __future__ import annotations

import numpy as np

import minigrad as mg

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
STATE = {"rnn": ("h",), "lstm": ("h", "C"), "gru": ("h",)}


class Param(mg.Tensor):
    """Stands in for nn.Parameter (the renderer recognises parameters by ``is_parameter``)."""

    __slots__ = ()
    is_parameter = True


def param(rng, *shape, scale=0.5) -> mg.Tensor:
    p = Param(rng.uniform(-scale, scale, shape))
    return p.requires_grad_(True)


def make_params(kind, input_size, hidden, layers=1, directions=1, seed=0, forget_bias=None):
    """PyTorch-style names and shapes: weight_ih_l{k}{_reverse}, weight_hh..., bias_ih..., bias_hh..."""
    rng = np.random.default_rng(seed)
    g = GATES[kind]
    params = {}
    for layer in range(layers):
        width = input_size if layer == 0 else hidden * directions
        for d in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            params["weight_ih" + sfx] = param(rng, g * hidden, width)
            params["weight_hh" + sfx] = param(rng, g * hidden, hidden)
            params["bias_ih" + sfx] = param(rng, g * hidden)
            params["bias_hh" + sfx] = param(rng, g * hidden)
            if forget_bias is not None and kind == "lstm":
                params["bias_ih" + sfx].data[hidden:2 * hidden] = forget_bias
                params["bias_hh" + sfx].data[hidden:2 * hidden] = 0.0
    return params


def step(kind, xw_t, state, hh_T, t, form="fused", concat_w=None):
    """One cell step's equations (called inside the step scope)."""
    h = state[0]
    if kind == "rnn":
        return (mg.addmm(xw_t, h, hh_T).tanh().label("h_t"),)  # as nn does: xw_t + h @ hh_T
    if kind == "gru":
        x_r, x_z, x_n = xw_t.chunk(3, axis=1)
        h_r, h_z, h_n = (h @ hh_T).chunk(3, axis=1)  # a plain matmul: drawn like addmm
        r = (x_r + h_r).sigmoid().label("r_t")
        z = (x_z + h_z).sigmoid().label("z_t")
        n = (x_n + r * h_n).tanh().label("n_t")
        return ((n + z * (h - n)).label("h_t"),)
    c = state[1]
    if form == "concat":
        hx = mg.concat([h, xw_t], axis=1)
        f, i, g, o = (hx @ w for w in concat_w)
    else:
        i, f, g, o = mg.addmm(xw_t, h, hh_T).chunk(4, axis=1)
    f_t = f.sigmoid().label("f_t")
    i_t = i.sigmoid().label("i_t")
    g_t = g.tanh().label("C~_t")
    C_t = (f_t * c + i_t * g_t).label("C_t")
    o_t = o.sigmoid().label("o_t")
    return ((o_t * C_t.tanh()).label("h_t"), C_t)


def run(kind, x, params, hidden, layers=1, bidirectional=False, form="fused", name=None,
        state0=None, keep=None):
    """Run a stack over x (T, N, I); returns (output (T, N, D*H), final states per layer/dir).
    ``keep``: a list that receives every step's state tuple."""
    name = name or kind
    directions = 2 if bidirectional else 1
    T, N = x.shape[0], x.shape[1]
    inp, finals = x, []
    for layer in range(layers):
        outs = []
        for d in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            W, U = params["weight_ih" + sfx], params["weight_hh" + sfx]
            b = params["bias_ih" + sfx] + params["bias_hh" + sfx]
            hh_T = U.T
            concat_w = None
            if form == "concat":
                Wx, Wh = W.chunk(4, axis=0), U.chunk(4, axis=0)
                concat_w = [mg.concat([Wh[k], Wx[k]], axis=1).T for k in (1, 0, 2, 3)]
                xs = list(inp.unbind(0))
            else:
                flat = inp.reshape(T * N, inp.shape[2])
                xs = list(mg.addmm(b, flat, W.T).reshape(T, N, W.shape[0]).unbind(0))
            state = state0[layer][d] if state0 else tuple(
                mg.zeros((N, hidden), dtype=x.dtype) for _ in STATE[kind])
            seq = [None] * T
            for k in range(T):
                t = T - 1 - k if d else k
                with mg.scope(name, layer=layer, direction="reverse" if d else "forward",
                              step=t, cell=kind):
                    state = step(kind, xs[t], state, hh_T, t, form, concat_w)
                seq[t] = state[0]
                if keep is not None:
                    keep.append(state)
            outs.append(mg.stack(seq, axis=0))
            finals.append(state)
        inp = outs[0] if directions == 1 else mg.concat(outs, axis=2)
    return inp, finals


def model(kind="lstm", T=3, layers=1, bidirectional=False, form="fused", hidden=4, inputs=3,
          batch=2, seed=0, forget_bias=None, x_grad=True):
    """Build, run and return (output, params, x)."""
    params = make_params(kind, inputs, hidden, layers, 2 if bidirectional else 1, seed,
                         forget_bias)
    rng = np.random.default_rng(seed + 1)
    x = mg.tensor(rng.normal(size=(T, batch, inputs)), requires_grad=x_grad)
    out, _ = run(kind, x, params, hidden, layers, bidirectional, form)
    return out, params, x


def lstm_with_preactivations(T=2):
    """An LSTM step by step that keeps each step's pre-activation (one addmm, split into the
    four gates), for drawing it as an output. Returns (U, [(pre, C_t, h_t) for each step])."""
    rng = np.random.default_rng(0)
    U = param(rng, 4, 16)
    x = mg.tensor(rng.normal(size=(T, 2, 16)))
    h = c = mg.zeros((2, 4), dtype=mg.float64)
    steps = []
    for t in range(T):
        with mg.scope("lstm", layer=0, direction="forward", step=t, cell="lstm"):
            pre = mg.addmm(x[t], h, U)
            i, f, g, o = pre.chunk(4, axis=1)
            c = (f.sigmoid().label("f_t") * c
                 + i.sigmoid().label("i_t") * g.tanh().label("C~_t")).label("C_t")
            h = (o.sigmoid().label("o_t") * c.tanh()).label("h_t")
        steps.append((pre, c, h))
    return U, steps


def encoder_decoder(kind="lstm", layers=2, T=3, decoder_steps=2):
    """An encoder hands its final states (h_n, and c_n, sliced per layer, as nn does) to a
    decoder of as many layers; returns the decoder's output."""
    x = mg.tensor(np.ones((T, 2, 3)))
    _, finals = run(kind, x, make_params(kind, 3, 4, layers), 4, layers, name="encoder")
    per_layer = [mg.stack(list(states)).unbind(0) for states in zip(*finals)]
    state0 = [[tuple(part[k] for part in per_layer)] for k in range(layers)]
    output, _ = run(kind, x[:decoder_steps], make_params(kind, 3, 4, layers, seed=1), 4, layers,
                    name="decoder", state0=state0)
    return output
