"""BatchNormalization: batch statistics while training, moving averages at inference."""
from mlcore import config, constraints, initializers, regularizers
from mlcore.graph import ops
from mlcore.graph.ops.common import upcast
from mlcore.keras_masks import over_trailing_axes
from mlcore.layers.batch_renorm import BatchRenormalization, checked_clipping
from mlcore.layers.base import Layer


def at_least_float32(inputs):
    """The inputs in the dtype a normalization computes in: theirs, float32 at least (Keras's rule: the
    statistics of float16 values overflow easily)."""
    return ops.cast(inputs, upcast(inputs.dtype, "float32"))


class ScaleOffsetOptions:
    """The learned scale (gamma) and offset (beta) of a normalization layer (BatchNormalization,
    LayerNormalization, GroupNormalization), in one place so that they read, build and save them alike,
    and compute alike under a mixed-precision policy: as Keras's, in float32 at least (the variance of
    float16 values overflows easily), with float32 weights, the outputs in the compute dtype."""

    def set_scale_offset_options(self, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                                 gamma_regularizer, beta_constraint, gamma_constraint):
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def add_scale_and_offset(self, shape, scale=None, center=None):
        """gamma where scale (self.scale unless given), beta where center (self.center unless given), each of
        this shape (else None); read as they are (autocast=False), since the normalization computes in
        float32 at least."""
        self.gamma = self.add_weight(shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint, name="gamma", autocast=False
                                     ) if (self.scale if scale is None else scale) else None
        self.beta = self.add_weight(shape, self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint, name="beta", autocast=False
                                    ) if (self.center if center is None else center) else None
    def scale_offset_config(self):
        return {"center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}


class BatchNormalization(ScaleOffsetOptions, BatchRenormalization, Layer):
    """renorm=True: batch renormalization (mlcore/layers/batch_renorm.py).  synchronized=True (batch statistics
    across replicas) is TensorFlow's alone in Keras, and refused here as Keras refuses it on jax."""
    supports_masking = True
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        if synchronized:
            raise ValueError("BatchNormalization %r: Argument synchronized=True is only supported with the "
                             "TensorFlow backend." % self.name)
        self.synchronized = False
        self.renorm = bool(renorm)
        self.renorm_clipping = checked_clipping(renorm_clipping) if renorm else renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.set_scale_offset_options(center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                                      gamma_regularizer, beta_constraint, gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        axis = self.axis % len(input_shape)
        dim = input_shape[axis]
        if dim is None:
            raise ValueError("BatchNormalization '%s': axis %d of input %s must be known"
                             % (self.name, self.axis, input_shape))
        self.add_scale_and_offset((dim,))
        self.moving_mean = self.add_weight((dim,), self.moving_mean_initializer, trainable=False,
                                           name="moving_mean", autocast=False)
        self.moving_variance = self.add_weight((dim,), self.moving_variance_initializer, trainable=False,
                                               name="moving_variance", autocast=False)
        if self.renorm:
            self.add_renorm_weights((dim,))
        self.built = True

    def _broadcast(self, v, ndim):
        axis = self.axis % ndim
        return ops.dimshuffle(v, ["x" if d != axis else 0 for d in range(ndim)])

    def call(self, inputs, training=None, mask=None):
        """A frozen layer (trainable=False) runs in inference mode even in fit, as in Keras 2.1.3+ and 3,
        so fine-tuning a pretrained network keeps its statistics.  With a mask (batch, time) over
        (batch, time, features) inputs, the training statistics are of the real steps only."""
        inputs = at_least_float32(inputs)
        ndim = inputs.ndim
        axis = self.axis % ndim
        if mask is not None and mask.ndim != ndim - 1:
            raise ValueError("BatchNormalization '%s': the mask provided should be one dimension less than the "
                             "inputs. Received: mask.shape=%s, inputs.shape=%s"
                             % (self.name, mask.type.shape, inputs.type.shape))
        if training and self.trainable:
            mean, variance = self._moments(inputs, [d for d in range(ndim) if d != axis], mask)
            if self.renorm:
                r, d = self.renorm_corrections(mean, variance)
                self.add_renorm_updates(mean, variance)
            else:
                m = self.momentum
                self.add_update(self.moving_mean, self.moving_mean * m + mean * (1 - m))
                self.add_update(self.moving_variance, self.moving_variance * m + variance * (1 - m))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        out = (inputs - self._broadcast(mean, ndim)) / ops.sqrt(self._broadcast(variance, ndim) + self.epsilon)
        if training and self.trainable and self.renorm:
            out = out * self._broadcast(r, ndim) + self._broadcast(d, ndim)
        if self.gamma is not None:
            out = out * self._broadcast(self.gamma, ndim)
        if self.beta is not None:
            out = out + self._broadcast(self.beta, ndim)
        return ops.cast(out, self.compute_dtype)

    def _moments(self, inputs, reduce_axes, mask):
        """The mean and variance over reduce_axes; with a mask, of the entries it keeps (Keras's weights)."""
        if mask is None:
            return ops.mean(inputs, axis=reduce_axes), ops.var(inputs, axis=reduce_axes)
        weights = ops.cast(over_trailing_axes(mask, inputs.ndim), inputs.dtype)
        count = ops.sum_(weights * ops.ones_like(inputs), axis=reduce_axes) + config.epsilon()
        mean = ops.sum_(inputs * weights, axis=reduce_axes) / count
        centred = (inputs - self._broadcast(mean, inputs.ndim)) * weights
        return mean, ops.sum_(ops.sqr(centred), axis=reduce_axes) / count

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                **self.scale_offset_config(),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "synchronized": self.synchronized, "renorm": self.renorm, "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum}
