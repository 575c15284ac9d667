"""`Embedding`: a lookup table of learned vectors, one row per token id."""
from __future__ import annotations

import minigrad
from minigrad import Tensor, backend

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """out[..., :] = W[ids[...], :] with W of shape (num_embeddings, embedding_dim), W ~ N(0, 1).

    The row ``padding_idx`` (if given) starts at zero and never receives a gradient.
    :meth:`from_pretrained` makes one from a table of trained vectors.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 device: str | None = None, dtype=None, _weight: Parameter | None = None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(minigrad.zeros(num_embeddings, embedding_dim, dtype=dtype,
                                                   device=device))
            self.reset_parameters()
        else:  # from_pretrained's table, used as it is (PyTorch's _weight)
            self.weight = _weight

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True,
                        padding_idx: int | None = None) -> "Embedding":
        """An Embedding whose weight is ``embeddings``, a float Tensor or array of shape
        (num_embeddings, embedding_dim), wrapped without a copy as in PyTorch. ``freeze=True``:
        the weight does not require grad. The row ``padding_idx`` keeps its values (it is not
        zeroed) and gets no gradient."""
        weight = Parameter(embeddings, requires_grad=False)
        if weight.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, "
                             f"embedding_dim), got shape {weight.shape}")
        if not backend.is_floating(weight.dtype):
            raise TypeError(f"Embedding.from_pretrained: embeddings must be floating point, got "
                            f"dtype {weight.dtype}")
        weight.requires_grad_(not freeze)
        return cls(*weight.shape, padding_idx=padding_idx, _weight=weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, ids) -> Tensor:
        return F.embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"
