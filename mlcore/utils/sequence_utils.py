"""keras.utils.pad_sequences: variable-length sequences (token ids, feature vectors) as one
(num_samples, maxlen, ...) array, so that a batch of them fits one tensor."""
import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Each sequence cut to its last (truncating="pre") or first ("post") `maxlen` steps and filled
    up with `value` before ("pre") or after ("post") it; maxlen defaults to the longest. Every
    step has the shape of the first non-empty sequence's steps (scalars, or vectors...)."""
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be iterable; got %r" % (sequences,))
    if padding not in ("pre", "post"):
        raise ValueError('pad_sequences: Padding type "%s" not understood (use "pre" or "post")' % (padding,))
    if truncating not in ("pre", "post"):
        raise ValueError('pad_sequences: Truncating type "%s" not understood (use "pre" or "post")' % (truncating,))
    lengths = []
    for position, sequence in enumerate(sequences):
        if not hasattr(sequence, "__len__"):
            raise ValueError("pad_sequences: `sequences` must be a list of iterables. Found non-iterable: %s "
                             "at position %d" % (sequence, position))
        lengths.append(len(sequence))
    step_shape = next((np.asarray(s).shape[1:] for s in sequences if len(s)), ())
    if maxlen is None:
        maxlen = max(lengths, default=0)
    text_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not text_dtype:
        raise ValueError("pad_sequences: `dtype` %s is not compatible with `value`'s type: %s. You should set "
                         "`dtype=object` for variable length strings." % (dtype, type(value)))
    padded = np.full((len(sequences), maxlen) + step_shape, value, dtype=dtype)
    for position, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen], dtype=dtype)
        if kept.shape[1:] != step_shape:
            raise ValueError("pad_sequences: Shape of sample %s of sequence at position %d is different from "
                             "expected shape %s" % (kept.shape[1:], position, step_shape))
        if padding == "pre":
            padded[position, maxlen - len(kept):] = kept
        else:
            padded[position, :len(kept)] = kept
    return padded
