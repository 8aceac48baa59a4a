"""SpectralNormalization (Miyato et al., 2018): a wrapped layer's kernel divided by its largest singular
value, estimated by power iteration, so that the layer is 1-Lipschitz (a GAN discriminator's stabiliser)."""
import numpy as np

from mlcore import initializers, ops
from mlcore.graph.basic import clone
from mlcore.layers.base import _unique
from mlcore.layers.input_spec import InputSpec
from mlcore.layers.wrappers import Wrapper


class SpectralNormalization(Wrapper):
    """layer(inputs) with the wrapped layer's `kernel` (or an Embedding's `embeddings`) W replaced, in training,
    by W / sigma, where sigma = v W u^T comes from `power_iterations` power-iteration steps that start at the
    non-trainable `vector_u` and end by storing the new u there.  The estimate of u and v is a constant to
    the gradient; sigma's dependence on W is not.  As in Keras's jax trainer, the stored kernel stays the
    raw W that the optimizer updates (Keras's eager and TensorFlow paths also overwrite it with W / sigma),
    and inference uses it as stored.  An all-zero kernel is left as it is."""

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             "`power_iterations=%s`" % (power_iterations,))
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        self.kernel = getattr(self.layer, "kernel", None)
        if self.kernel is None:
            self.kernel = getattr(self.layer, "embeddings", None)
        if self.kernel is None:
            raise ValueError("%s object has no attribute 'kernel' nor 'embeddings'" % type(self.layer).__name__)
        self.vector_u = self.add_weight((1, self.kernel.shape[-1]), initializers.TruncatedNormal(stddev=0.02),
                                        dtype=self.kernel.dtype, trainable=False, name="vector_u")
        self.built = True

    @property
    def weights(self):
        """Keras's order: the kernel and vector_u (the wrapper's own), then the wrapped layer's others."""
        if not self.built:
            return super().weights
        return _unique([self.kernel, self.vector_u] + self.layer.weights)

    def call(self, inputs, training=None):
        outputs = self.layer.call_for_step(inputs, training)
        if training:
            vector_u, kernel = self.normalized_weights()
            self.add_update(self.vector_u, vector_u)
            outputs = clone(outputs, {self.kernel: kernel})
        return outputs if outputs.dtype == inputs.dtype else ops.cast(outputs, inputs.dtype)

    def normalized_weights(self):
        """(the next u, W / sigma) as graphs; both stay as they are while the kernel is all zeros."""
        columns = self.kernel.shape[-1]
        weights = ops.reshape(self.kernel, (-1, columns))
        vector_u = self.vector_u
        for _ in range(self.power_iterations):
            vector_v = ops.normalize(ops.matmul(vector_u, ops.transpose(weights)), axis=None)
            vector_u = ops.normalize(ops.matmul(vector_v, weights), axis=None)
        vector_u, vector_v = ops.stop_gradient(vector_u), ops.stop_gradient(vector_v)
        sigma = ops.matmul(ops.matmul(vector_v, weights), ops.transpose(vector_u))
        all_zero = ops.all(ops.equal(self.kernel, 0))
        sigma = ops.where(all_zero, 1.0, sigma)     # W / 1 = W, without a 0 / 0 in the unused branch
        return ops.where(all_zero, self.vector_u, vector_u), ops.divide(self.kernel, sigma)

    def save_own_variables(self, store):
        """Keras 3 keeps the wrapper's own variables, the kernel (again) and vector_u, in its vars group,
        beside the wrapped layer's group."""
        if self.built:
            store["0"], store["1"] = self.kernel, self.vector_u

    def load_own_variables(self, store):
        if self.built:
            for weight, key in ((self.kernel, "0"), (self.vector_u, "1")):
                value = np.asarray(store[key])
                if value.shape != tuple(weight.shape):
                    raise ValueError("Layer '%s': weight '%s' has shape %s; the stored value has shape %s"
                                     % (self.name, weight.path, tuple(weight.shape), value.shape))
                weight.assign(value.astype(weight.dtype))

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
