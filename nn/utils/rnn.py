"""PyTorch's ``torch.nn.utils.rnn``: padding and packing batches of sequences of different
lengths (see nn/recurrent/packed.py: packing here is the padded batch and its lengths)."""
from ..recurrent.packed import (PackedSequence, pack_padded_sequence, pad_packed_sequence,
                                pad_sequence)

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence"]
