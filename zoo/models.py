"""The model zoo: small recurrent models of every architecture, run on random input, for the
``minigrad`` command and the gallery (and for tests and docs that want one in a line).

An application over both packages: it builds models from ``nn`` and runs them on ``minigrad``.
"""
from __future__ import annotations

import minigrad
import nn
from minigrad.viz import record_flows, record_values

ARCHITECTURES = {
    "rnn": "Elman RNN: one tanh layer per step (nn.RNN)",
    "lstm": "LSTM, fused gates as PyTorch computes them (nn.LSTM)",
    "lstm-concat": "LSTM in the essay's form, one W per gate on [h_{t-1}, x_t] (form='concat')",
    "peephole": "LSTM whose gates peek at the cell state (nn.PeepholeLSTMCell)",
    "coupled": "LSTM with coupled forget and input gates, i = 1 - f (nn.CoupledLSTMCell)",
    "gru": "gated recurrent unit (nn.GRU)",
    "depth-gated": "depth-gated LSTM: a gate between the cells of stacked layers (nn.DepthGatedLSTM)",
    "clockwork": "clockwork RNN: modules that tick at different rates (nn.ClockworkRNN)",
}

def build_model(arch: str, input_size: int, hidden: int, layers: int, bidirectional: bool,
                forget_bias: float | None = None):
    """The ``nn`` model for ``arch`` (see ARCHITECTURES)."""
    lstm_options = {} if forget_bias is None else {"forget_bias": forget_bias}
    shape = dict(input_size=input_size, hidden_size=hidden, num_layers=layers,
                 bidirectional=bidirectional)
    if forget_bias is not None and arch in ("rnn", "gru", "clockwork"):
        raise ValueError(f"--forget-bias: the {arch} has no forget gate")
    if arch == "rnn":
        return nn.RNN(**shape)
    if arch == "lstm":
        return nn.LSTM(**shape, **lstm_options)
    if arch == "lstm-concat":
        return nn.LSTM(**shape, form="concat", **lstm_options)
    if arch == "peephole":
        return nn.LSTM(**shape, cell=nn.PeepholeLSTMCell, **lstm_options)
    if arch == "coupled":
        return nn.LSTM(**shape, cell=nn.CoupledLSTMCell, **lstm_options)
    if arch == "gru":
        return nn.GRU(**shape)
    if arch == "depth-gated":
        return nn.DepthGatedLSTM(**shape, **lstm_options)
    if arch == "clockwork":
        return nn.ClockworkRNN(**shape, periods=_clock_periods(hidden))
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")


def _clock_periods(hidden: int) -> tuple:
    """The paper's periods 1, 2, 4, ... for as many modules as split the hidden units evenly
    (at most four)."""
    for modules in (4, 3, 2, 1):
        if hidden % modules == 0:
            return tuple(2 ** k for k in range(modules))
    return (1,)


def run_model(arch: str, steps: int, layers: int | None = None, bidirectional: bool = False,
              grads: bool = False, input_size: int = 3, hidden: int = 4, batch: int = 2,
              forget_bias: float | None = None, seed: int = 0):
    """Build the model, run it on random input; returns (output, params); with ``grads``, the
    last step's output summed is backpropagated inside ``minigrad.record_grads()``."""
    minigrad.manual_seed(seed)
    model = build_model(arch, input_size, hidden, layers_of(arch, layers), bidirectional,
                        forget_bias)
    x = minigrad.randn(steps, batch, input_size, requires_grad=True)
    x.name = "x"
    with record_values():  # the explorable page shows what each value held
        output, _ = model(x)
    if grads:
        with minigrad.record_grads(), record_flows():
            output[steps - 1].sum().backward()
    return output, dict(model.named_parameters())


def layers_of(arch: str, layers: int | None) -> int:
    """The default is one layer, two for depth-gated (whose gate joins two layers)."""
    return layers or (2 if arch == "depth-gated" else 1)


def gallery_entries() -> list:
    """(file stem, what it shows, function returning (outputs, draw keywords))."""
    entries = []
    for arch in ARCHITECTURES:
        for detail in ("op", "gate", "cell"):
            entries.append((f"{arch}-{detail}", f"{arch}, 3 steps, {detail} detail",
                            _simple(arch, detail)))
    for arch in ARCHITECTURES:
        entries.append((f"{arch}-backward", f"{arch}, 3 steps: the backward pass at gate detail, "
                        "gradients right to left", _backward(arch)))
    entries += [
        ("lstm-2layers-gate", "a 2-layer LSTM: layer 0 feeds layer 1 at every step",
         _simple("lstm", "gate", layers=2)),
        ("lstm-2layers-cell", "a 2-layer LSTM, one box per step", _simple("lstm", "cell", layers=2)),
        ("lstm-bidirectional-cell", "a bidirectional 2-layer LSTM: reverse rows run right to left",
         _simple("lstm", "cell", layers=2, bidirectional=True)),
        ("lstm-params-once-op", "every op, the parameters drawn once, under the steps: each step "
         "taps their lines",
         _simple("lstm", "op", param_mode="once")),
        ("gradients-rnn-vs-lstm", "gradient norms after backward from the last step: the RNN's "
         "fade, the LSTM's cell state keeps them", _gradients),
        ("tbptt-lstm", "truncated BPTT: the second chunk starts from the first one's detached "
         "state", _tbptt),
        ("lstm-400-steps", "a 400-step 2-layer LSTM at cell detail: the middle steps are elided",
         _long),
        ("mlp", "any graph works: an MLP, drawn flat with values and gradients", _mlp),
    ]
    return entries


def _simple(arch: str, detail: str, layers: int | None = None, bidirectional: bool = False,
            param_mode: str = "auto"):
    def build():
        output, params = run_model(arch, 3, layers, bidirectional)
        return (output,), dict(params=params, detail=detail, param_mode=param_mode)
    return build


def _backward(arch: str):
    def build():
        output, params = run_model(arch, 3, grads=True)
        return (output,), dict(params=params, detail="gate", backward=True)
    return build


def _gradients():
    steps = 12
    rnn, _ = run_model("rnn", steps, grads=True, seed=1)
    lstm, _ = run_model("lstm", steps, grads=True, forget_bias=3.0, seed=1)
    return (rnn, lstm), dict(detail="cell")


def _tbptt():
    """Two chunks of 4 steps; the state between them is detached. One backward, from the second
    chunk's loss, as training runs it: no gradient crosses the cut, so the first chunk stays grey
    (a backward of its own, drawn with the same colours, made gradient seem to cross it)."""
    minigrad.manual_seed(0)
    model = nn.LSTM(3, 4)
    _, final = model(minigrad.randn(4, 2, 3))
    state = nn.utils.detach_state(final)
    second, _ = model(minigrad.randn(4, 2, 3), state)
    loss = second[-1].sum()
    with minigrad.record_grads(), record_flows():
        loss.backward()
    # the first chunk's h_n and c_n are drawn too: the dashed edges leave from them
    return (*final, loss), dict(params=dict(model.named_parameters()), detail="cell")


def _long():
    output, params = run_model("lstm", 400, layers=2)
    return (output,), dict(params=params, detail="cell", max_nodes=80)


def _mlp():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    x = minigrad.tensor([[0.5, -1.0]])
    with minigrad.record_grads(), record_flows():
        loss = (model(x).tanh() ** 2).sum()
        loss.backward()
    return (loss,), dict(params=dict(model.named_parameters()))


