"""Keras 2's keras.preprocessing.sequence, where code of the seed's era imports pad_sequences from."""
from mlcore.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
