"""Batch renormalization (Ioffe 2017), BatchNormalization(renorm=True) as Keras 3 computes it.

Training normalizes with the batch's statistics, then corrects them towards moving ones: x * r + d with
r = batch stddev / renorm_stddev and d = (batch mean - renorm_mean) / renorm_stddev, clipped by
renorm_clipping and held constant for the gradient, so that training and inference see closer
normalizations with small or non-i.i.d. batches.  Three more variables, in Keras's order and names:
moving_stddev (which moving_variance is derived from), renorm_mean and renorm_stddev."""
import numpy as np

from mlcore.graph import ops
from mlcore.graph.gradient import zero_grad

CLIPPING_KEYS = ("rmax", "rmin", "dmax")


def checked_clipping(renorm_clipping):
    """renorm_clipping as a dict of Keras's keys, or Keras's error."""
    clipping = dict(renorm_clipping or {})
    if set(clipping) - set(CLIPPING_KEYS):
        raise ValueError("Received invalid keys for `renorm_clipping` argument: %s. Supported values: %s."
                         % (renorm_clipping, list(CLIPPING_KEYS)))
    rmax, rmin, dmax = (clipping.get(key) for key in CLIPPING_KEYS)
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError("rmax should be greater than rmin in the `renorm_clipping` argument. Received: "
                         "rmax=%s, rmin=%s." % (rmax, rmin))
    if dmax is not None and dmax < 0:
        raise ValueError("dmax should be non-negative in the `renorm_clipping` argument. Received: dmax=%s."
                         % dmax)
    return clipping


class BatchRenormalization:
    """The renorm part of BatchNormalization: its variables, corrections and moving-statistics updates."""

    def add_renorm_weights(self, shape):
        """The stddevs start at sqrt of the moving-variance initializer's values, as in Keras."""
        variance_init = self.moving_variance_initializer

        def stddev_init(shape, dtype=None):
            return np.sqrt(np.asarray(variance_init(shape, dtype=dtype)))
        self.moving_stddev = self.add_weight(shape, stddev_init, trainable=False, name="moving_stddev",
                                             autocast=False)
        self.renorm_mean = self.add_weight(shape, self.moving_mean_initializer, trainable=False,
                                           name="renorm_mean", autocast=False)
        self.renorm_stddev = self.add_weight(shape, stddev_init, trainable=False, name="renorm_stddev",
                                             autocast=False)

    def renorm_corrections(self, mean, variance):
        """(r, d) for this batch, clipped, without gradient; renorm_stddev is kept off zero early on."""
        stddev = ops.sqrt(variance + self.epsilon)
        renorm_stddev = ops.maximum(self.renorm_stddev, self.epsilon ** 0.5)
        r = stddev / renorm_stddev
        d = (mean - self.renorm_mean) / renorm_stddev
        rmax, rmin, dmax = (self.renorm_clipping.get(key) for key in CLIPPING_KEYS)
        if rmin is not None:
            r = ops.maximum(r, rmin)
        if rmax is not None:
            r = ops.minimum(r, rmax)
        if dmax is not None:
            d = ops.clip(d, -dmax, dmax)
        return zero_grad(r), zero_grad(d)

    def add_renorm_updates(self, mean, variance):
        """Moving averages of the batch mean and stddev (renorm_momentum for the renorm pair, momentum for the
        inference pair); moving_variance follows moving_stddev (relu against rounding below zero)."""
        stddev = ops.sqrt(variance + self.epsilon)
        m, rm = self.momentum, self.renorm_momentum
        self.add_update(self.renorm_mean, self.renorm_mean * rm + mean * (1 - rm))
        self.add_update(self.renorm_stddev, self.renorm_stddev * rm + stddev * (1 - rm))
        self.add_update(self.moving_mean, self.moving_mean * m + mean * (1 - m))
        moving_stddev = self.moving_stddev * m + stddev * (1 - m)
        self.add_update(self.moving_stddev, moving_stddev)
        self.add_update(self.moving_variance, ops.relu(ops.sqr(moving_stddev) - self.epsilon))
