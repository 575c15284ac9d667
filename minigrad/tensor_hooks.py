"""``Tensor.register_hook`` and ``Tensor.retain_grad``, heard through the engine's one hook.

The backward walk tells listeners ``on_backward(node, grad_outputs, grad_inputs)`` after each
node's backward (minigrad/hooks.py). That is all a tensor hook needs:

* a tensor made by an op is output ``i`` of its node: its gradient is ``grad_outputs[i]``,
  complete (summed over all its uses) when the node runs;
* a leaf gets one share of its gradient from each node that used it, ``grad_inputs[k]`` where
  ``node.next[k]`` is the leaf. Its hooks run once, with the sum, when the last share arrives:
  at the walk's first step the listener counts the leaf's uses in the graph it is about to walk.

One listener, `_Hooks`, is installed while some tensor has a hook and taken out when the last
such tensor (or graph) is gone, so the walk pays nothing when nobody watches.
"""
from __future__ import annotations

import itertools
import weakref

from .function import STATE
from .tensor import Tensor

_ids = itertools.count()


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` stops the hook."""

    def __init__(self, watch: "_Watch", key: int):
        self._watch, self._key = weakref.ref(watch), key

    def remove(self) -> None:
        watch = self._watch()
        if watch is not None:
            watch.hooks.pop(self._key, None)


class _Watch:
    """The hooks of one tensor (and whether its gradient is retained)."""

    def __init__(self, tensor: Tensor):
        self.tensor = weakref.ref(tensor)
        self.hooks: dict = {}
        self.retain = False


class _Hooks:
    """The listener. ``nodes``: {node: {output index: _Watch}} for non-leaf tensors (a node
    dies with its graph); ``leaves``: {id(leaf): _Watch}."""

    def __init__(self):
        self.nodes = weakref.WeakKeyDictionary()
        self.leaves: dict = {}
        self.walk = None  # during a walk: its nodes, those seen, and each watched leaf's shares

    def on_backward(self, node, grad_outputs, grad_inputs):
        watched = self.nodes.get(node)
        if watched:
            for index, watch in list(watched.items()):
                if grad_outputs[index] is not None:
                    _arrived(watch, grad_outputs[index])
        if self.leaves:
            self._leaf_shares(node, grad_inputs)

    def _leaf_shares(self, node, grad_inputs):
        walk = self.walk
        if walk is None or node not in walk["nodes"] or node in walk["seen"]:
            walk = self.walk = self._start_walk(node)
        walk["seen"].add(node)
        for edge, g in zip(node.next, grad_inputs):
            share = walk["shares"].get(id(edge)) if isinstance(edge, Tensor) else None
            if share is None:
                continue
            share[0] -= 1
            if g is not None:
                share[1] = g if share[1] is None else share[1] + g
            if share[0] == 0 and share[1] is not None:
                watch = self.leaves.get(id(edge))
                if watch is not None:
                    _arrived(watch, share[1])
        if len(walk["seen"]) == len(walk["nodes"]):
            self.walk = None

    def _start_walk(self, root) -> dict:
        """The nodes reachable from the walk's first node, and how many edges reach each
        watched leaf (each will send one share of its gradient)."""
        nodes, stack, shares = {root}, [root], {}
        while stack:
            for edge in stack.pop().next:
                if type(edge) is tuple:
                    if edge[0] not in nodes:
                        nodes.add(edge[0])
                        stack.append(edge[0])
                elif edge is not None and id(edge) in self.leaves:
                    shares.setdefault(id(edge), [0, None])[0] += 1
        return {"nodes": nodes, "seen": set(), "shares": shares}


_LISTENER = _Hooks()


def _arrived(watch: _Watch, grad) -> None:
    tensor = watch.tensor()
    if tensor is None:
        return
    grad = grad if isinstance(grad, Tensor) else Tensor._make(grad)
    for hook in list(watch.hooks.values()):
        if hook(grad) is not None:
            raise RuntimeError(
                "register_hook: the hook returned a value; in minigrad hooks only watch "
                "gradients (the walk has already used this one), so return None")
    if watch.retain:
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad


def _watch(tensor: Tensor) -> _Watch:
    """The tensor's _Watch, made (and the listener installed) on first use."""
    if tensor.grad_fn is None:
        watch = _LISTENER.leaves.get(id(tensor))
        if watch is None or watch.tensor() is not tensor:
            watch = _LISTENER.leaves[id(tensor)] = _Watch(tensor)
            weakref.finalize(tensor, _forget_leaf, id(tensor), watch)
    else:
        watched = _LISTENER.nodes.setdefault(tensor.grad_fn, {})
        watch = watched.get(tensor._output_index)
        if watch is None:
            watch = watched[tensor._output_index] = _Watch(tensor)
            weakref.finalize(tensor.grad_fn, _uninstall_if_idle)
    if _LISTENER not in STATE.listeners:
        STATE.listeners = STATE.listeners + (_LISTENER,)
    return watch


def _forget_leaf(key: int, watch: _Watch) -> None:
    if _LISTENER.leaves.get(key) is watch:
        del _LISTENER.leaves[key]
    _uninstall_if_idle()


def _uninstall_if_idle() -> None:
    if not _LISTENER.leaves and not any(True for _ in _LISTENER.nodes.keys()):
        _LISTENER.walk = None
        STATE.listeners = tuple(x for x in STATE.listeners if x is not _LISTENER)


def add_hook(tensor: Tensor, hook) -> RemovableHandle:
    """Call ``hook(grad)`` whenever backward computes ``tensor``'s gradient."""
    watch = _watch(tensor)
    key = next(_ids)
    watch.hooks[key] = hook
    return RemovableHandle(watch, key)


def retain(tensor: Tensor) -> None:
    """Keep the non-leaf ``tensor``'s gradient in ``tensor.grad`` after each backward."""
    _watch(tensor).retain = True
