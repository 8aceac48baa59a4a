"""CTC beam search decoding on values (numpy), the algorithm of Keras's jax backend step for step, so
that ties break alike and the paths and scores are Keras's.

Each path keeps two scores: ending in a label ("emit") and ending in a blank ("masked"), since a
repeated label is a new symbol only after a blank.  Every step extends each of the 2 * beam_width
paths by every class, merges the paths that became equal (adding their probabilities in log space)
and keeps the beam_width most probable.  The classes are flipped before sorting, as Keras does, so
that a stable sort prefers the lower class on equal scores as TensorFlow's decoder does.
"""
import numpy as np

PAD = -1


def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _unique_rows(paths, size):
    """Sorted unique rows padded with PAD rows to `size` (as jnp.unique(size=, fill_value=)), and
    each row's index among them."""
    unique, inverse = np.unique(paths, axis=0, return_inverse=True)
    filler = np.full((size - len(unique), paths.shape[1]), PAD, paths.dtype)
    return np.concatenate([unique, filler]), inverse.reshape(-1)


def _merge_scores(inverse, scores):
    """log of the summed probabilities of the rows that merged into each unique row."""
    top = scores.max()
    merged = np.zeros_like(scores)
    np.add.at(merged, inverse, np.exp(scores - top))
    with np.errstate(divide="ignore"):
        return np.log(merged) + top


def _extend(paths, scores, masked, x, mask_index):
    num_classes = len(x)
    paths, scores, masked = (np.repeat(a, num_classes, axis=0) for a in (paths, scores, masked))
    rows = np.arange(len(paths))
    tail_index = np.argmax(paths == PAD, axis=1)
    tails = np.where(tail_index == 0, PAD, paths[rows, tail_index - 1])
    classes = np.arange(num_classes)
    classes[mask_index] = PAD
    classes = np.tile(classes, len(paths) // num_classes)
    repeat = ~masked & (tails == classes)              # a repeat right after its label merges into it
    paths[rows, tail_index] = np.where(repeat, PAD, classes)
    return paths, scores + np.tile(x, len(paths) // num_classes), classes == PAD


def _prune(paths, scores, masked, beam_width):
    paths, inverse = _unique_rows(paths, len(paths))
    emit = _merge_scores(inverse, np.where(masked, -np.inf, scores))
    blank = _merge_scores(inverse, np.where(masked, scores, -np.inf))
    top = np.argsort(np.logaddexp(emit, blank), kind="stable")[-beam_width:]
    masked = np.concatenate([np.zeros(beam_width, bool), np.ones(beam_width, bool)])
    return np.tile(paths[top], (2, 1)), np.concatenate([emit[top], blank[top]]), masked


def _decode_one(log_probs, past_end, beam_width, top_paths, mask_index):
    num_classes = log_probs.shape[1]
    paths = np.full((2 * beam_width, len(log_probs)), PAD, np.int32)
    first = min(num_classes, beam_width)
    best = np.argsort(log_probs[0], kind="stable")[-first:]
    paths[:first, 0] = np.where(best == mask_index, PAD, best)
    scores = np.full(2 * beam_width, -np.inf, log_probs.dtype)
    scores[:first] = log_probs[0, best]
    masked = paths[:, 0] == PAD
    for x, done in zip(log_probs[1:], past_end[1:]):
        if not done:
            paths, scores, masked = _prune(*_extend(paths, scores, masked, x, mask_index), beam_width)
    paths, inverse = _unique_rows(paths, len(paths))
    scores = _merge_scores(inverse, scores)
    top = np.argsort(scores, kind="stable")[-top_paths:][::-1]
    return paths[top], scores[top]


def beam_search_decode(inputs, sequence_lengths, beam_width=100, top_paths=1, mask_index=0):
    """(paths (top_paths, batch, time) int32 padded with -1, log-probabilities (batch, top_paths))."""
    inputs = np.asarray(inputs)
    inputs = inputs.astype(np.result_type(inputs.dtype, np.float32))
    if inputs.ndim != 3:
        raise ValueError("ctc_decode: `inputs` must be (batch, time, classes), got shape %s" % (inputs.shape,))
    num_classes = inputs.shape[2]
    log_probs = np.flip(_log_softmax(inputs), axis=2)
    flipped_mask = num_classes - mask_index - 1
    past_end = np.arange(inputs.shape[1])[None, :] >= np.asarray(sequence_lengths).reshape(-1, 1)
    decoded = [_decode_one(lp, pe, beam_width, top_paths, flipped_mask) for lp, pe in zip(log_probs, past_end)]
    paths = np.stack([p for p, _ in decoded])
    paths = np.where(paths == PAD, PAD, num_classes - paths - 1).astype(np.int32)
    return np.transpose(paths, (1, 0, 2)), np.stack([s for _, s in decoded])
