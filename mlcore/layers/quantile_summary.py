"""The approximate quantiles Keras's Discretization.adapt computes, so that adapting on the same
batches gives the same bin boundaries.

A summary is a (2, n) float32 array: sorted values in row 0, the number of data points each stands
for in row 1.  Each batch is summarized by about 1/epsilon of its sorted values, merged with the
summary so far, and the merge is compressed back to about 1/epsilon points by interpolating the
values at evenly spaced fractions of the cumulative weight.  The boundaries are such a compression
to 1/num_bins points, less the last (the maximum).  Where the data has fewer than 1/epsilon points
the summary keeps them all, and where it has fewer than num_bins the boundaries are its values (so
fewer than num_bins - 1 of them), as in Keras.
"""
import numpy as np


def summarize(batch, epsilon):
    """One batch's summary: every step-th of its sorted values, each weighing step, where step is
    the batch's size times epsilon (at least 1)."""
    values = np.sort(np.asarray(batch, dtype="float32").reshape(-1))
    step = max(values.size * epsilon, 1.0)
    kept = values[int(step) - 1::int(step)]
    return np.stack([kept, np.full_like(kept, step)])


def merge(summary, other, epsilon):
    """The two summaries' points in order of value, compressed to epsilon."""
    both = np.concatenate([summary, other], axis=1)
    return compress(both[:, np.argsort(both[0])], epsilon)


def compress(summary, epsilon):
    """About 1/epsilon points: the values at cumulative-weight fractions epsilon, 2 epsilon, ..., 1
    (linearly interpolated), each weighing the weight between it and the one before.  A summary
    already smaller than that is returned as it is."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = np.arange(0.0, 1.0, epsilon) + epsilon
    cumulative = np.cumsum(summary[1])
    at_fractions = cumulative / cumulative[-1]
    values = np.interp(fractions, at_fractions, summary[0])
    weights = np.diff(np.interp(fractions, at_fractions, cumulative), prepend=0.0)
    return np.stack([values, weights]).astype("float32")


def bin_boundaries(batches, num_bins, epsilon):
    """The boundaries of num_bins bins of about equal counts over the batches' values."""
    summary = np.zeros((2, 0), dtype="float32")
    for batch in batches:
        summary = merge(summarize(batch, epsilon), summary, epsilon)
    return compress(summary, 1.0 / num_bins)[0, :-1].tolist()
