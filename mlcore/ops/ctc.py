"""keras.ops.ctc_loss and keras.ops.ctc_decode: Connectionist Temporal Classification (Graves et
al., 2006) for outputs of shape (batch, time, classes) and integer targets (batch, max_label_length).

The loss is the forward (alpha) recursion written in log space on the graph, one scan step per time
step, so that mlcore.grad differentiates it as it differentiates any scan: the backward pass that
reverse mode builds through the loop *is* the beta recursion, and no hand-written pullback has to be
kept in step with the forward code (nor with three backends).  The states are the label with a
blank around and between its symbols (2N + 1 of them); log(0) is taken as -1e5, as Keras's jax
backend does, so that no step sees -inf - -inf and every gradient stays finite.

Greedy decoding is graph ops too (argmax, the blanks and merged repeats set to -1 and moved to the
end); beam search keeps a data-dependent set of prefixes, which a graph of fixed shapes cannot hold:
it runs on values only (mlcore.ops.ctc_beam_search, in numpy).
"""
from mlcore import activations
from mlcore.graph import scan as graph_scan
from mlcore.ops.along_axis import argsort, take_along_axis
from mlcore.ops.arrays import arange, expand_dims, pad, reshape, stack, zeros_like
from mlcore.ops.core import as_tensor, cast, shape
from mlcore.ops.ctc_beam_search import beam_search_decode
from mlcore.ops.eager import _has_symbolic_input, evaluate
from mlcore.ops.elementwise import equal, less, logaddexp, not_equal, where
from mlcore.ops.reductions import argmax, max, sum  # noqa: A004

LOG_ZERO = -1e5


def _float_at_least_32(x):
    x = as_tensor(x)
    return x if x.dtype == "float64" else cast(x, "float32")


def _shift_right(x, steps):
    """x[:, s - steps] at each state s (LOG_ZERO before the first)."""
    return pad(x, ((0, 0), (steps, 0)), constant_values=LOG_ZERO)[:, :-steps]


def _check_ranks(name, **tensors_and_ranks):
    for arg, (tensor, rank) in tensors_and_ranks.items():
        if tensor.ndim != rank:
            raise ValueError("%s: `%s` must have rank %d, got shape %s" % (name, arg, rank, tensor.type.shape))


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """The CTC loss of each sample: -log p(target | output), output holding logits (batch, time,
    classes), target (batch, max_label_length) integer labels of which the first target_length are
    read, output_length the number of valid time steps; mask_index is the blank class."""
    target, output = cast(target, "int32"), _float_at_least_32(output)
    target_length, output_length = cast(target_length, "int32"), cast(output_length, "int32")
    _check_ranks("ctc_loss", target=(target, 2), output=(output, 3), target_length=(target_length, 1),
                 output_length=(output_length, 1))
    log_probs = activations.log_softmax(output, -1)
    # states: blank, l1, blank, l2, ..., lN, blank
    blanks = zeros_like(target) + mask_index
    states = pad(reshape(stack([blanks, target], 2), (shape(target)[0], -1)), ((0, 0), (0, 1)),
                 constant_values=mask_index)
    emissions = take_along_axis(log_probs, expand_dims(states, 1), axis=2)     # (batch, time, states)
    # a label may be reached from two states back (skipping a blank) unless it repeats that label; a blank
    # state's two-back is a blank too.  A label equal to the blank class inside target_length is a label
    # like any other (Keras's rule, as optax's), not a blank state
    skips = not_equal(states, pad(states, ((0, 0), (2, 0)), constant_values=mask_index)[:, :-2])
    valid = less(expand_dims(arange(shape(output)[1]), 1), expand_dims(output_length, 0))   # (time, batch)
    # before the first step all the mass is in a virtual state -1 ahead of state 0: the first step's
    # transitions then reach exactly states 0 and 1, as the recursion's start asks
    start = where(equal(arange(shape(states)[1]), 0), 0.0, LOG_ZERO) + zeros_like(emissions[:, 0])

    def step(emission, is_valid, previous, skips):
        reached = logaddexp(previous, _shift_right(previous, 1))
        reached = logaddexp(reached, where(skips, _shift_right(previous, 2), LOG_ZERO))
        return where(expand_dims(is_valid, 1), reached + emission, previous)
    alphas, _ = graph_scan.scan(step, sequences=[emissions.dimshuffle(1, 0, 2), valid], outputs_info=[start],
                                non_sequences=[skips])
    last = alphas[-1]
    ends = 2 * target_length
    final_blank = take_along_axis(last, expand_dims(ends, 1), axis=1)[:, 0]
    final_label = take_along_axis(last, expand_dims(ends - 1, 1) % shape(last)[1], axis=1)[:, 0]
    return -logaddexp(final_blank, where(target_length > 0, final_label, LOG_ZERO))


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True,
               mask_index=0):
    """(decoded, log_probabilities) as Keras's jax backend gives them: decoded (top_paths, batch, time)
    int32 labels, padded with -1; log_probabilities (batch, top_paths), for greedy decoding the
    negated sum of the chosen logits.  inputs are logits (batch, time, classes)."""
    if strategy == "greedy":
        return _greedy_decode(inputs, sequence_lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        if _has_symbolic_input([inputs, sequence_lengths]):
            raise NotImplementedError("ctc_decode(strategy='beam_search') runs on values only: its set of "
                                      "prefixes depends on the data, which a graph cannot hold; use "
                                      "strategy='greedy' in a graph")
        return beam_search_decode(evaluate(inputs), evaluate(sequence_lengths), beam_width, top_paths, mask_index)
    raise ValueError("Invalid strategy %s. Supported values are 'greedy' and 'beam_search'." % (strategy,))


def _greedy_decode(inputs, sequence_lengths, merge_repeated, mask_index):
    inputs = _float_at_least_32(inputs)
    _check_ranks("ctc_decode", inputs=(inputs, 3))
    lengths = cast(sequence_lengths, "int32")
    labels = cast(argmax(inputs, axis=-1), "int32")
    scores = max(inputs, axis=-1)
    in_sequence = less(expand_dims(arange(shape(inputs)[1]), 0), expand_dims(lengths, 1))
    labels = where(in_sequence, labels, mask_index)
    scores = where(in_sequence, scores, 0.0)
    if merge_repeated:
        repeats = pad(equal(labels[:, 1:], labels[:, :-1]), ((0, 0), (1, 0)), constant_values=False)
        labels = where(repeats, mask_index, labels)
    dropped = equal(labels, mask_index)
    labels = where(dropped, -1, labels)
    # the kept labels first, in their order (argsort is stable), the -1's after them
    order = argsort(cast(dropped, "int32"), axis=-1)
    decoded = take_along_axis(labels, order, axis=-1)
    return expand_dims(decoded, 0), expand_dims(-sum(scores, axis=1), 1)
