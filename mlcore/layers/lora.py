"""LoRA (low-rank adaptation) for Dense, EinsumDense, Embedding and Conv1D/2D/3D, as Keras 3's enable_lora gives it.

enable_lora(rank) freezes the layer's kernel (Embedding's table) and adds two trainable float32 factors,
lora_kernel_a (the kernel's shape with its last dim replaced by rank) and lora_kernel_b (rank, the kernel's last
dim); the layer then computes with kernel + (lora_alpha / rank) * a @ b, so fine-tuning trains only the factors.
A float layer reads that sum through its `kernel` property; an int8/int4 layer keeps its quantized kernel and
adds the factors' own product of the inputs.  Saving merges the factors into the kernel (re-quantized for an
int8/int4 layer) and stores Keras's variables for the mode; loading zeroes the factors, whose update the loaded
kernel already holds."""
import numpy as np

from mlcore import initializers
from mlcore.graph import ops
from mlcore.layers.calibrated_kernel import CALIBRATED_MODES

# mlcore.ops is imported where used: it imports the layers package


def adapted_weight(name):
    """The property a layer reads its adapted weight by (Keras's `kernel` property): the stored variable
    (`_<name>`, which `layer.<name> = ...` sets; a quantized layer's values as quantized_weight reads them), plus
    the LoRA update while LoRA is on, as Keras's gives it (a quantized layer computes with its stored weight and
    adds the update to its outputs)."""
    stored = "_" + name

    def get(self):
        if stored not in vars(self):
            raise AttributeError("%s '%s': build the layer before accessing `%s`."
                                 % (type(self).__name__, self.name, name))
        weight = getattr(self, stored)
        if self._is_quantized:
            weight = self.quantized_weight(weight)
        if not self.lora_enabled:
            return weight
        return ops.cast(ops.add(weight, self.lora_update()), self.compute_dtype)

    def set(self, value):
        setattr(self, stored, value)
    return property(get, set, doc=get.__doc__)


def pop_lora_arguments(kwargs):
    """(lora_rank, lora_alpha) taken out of kwargs: Keras's convolutions take them through **kwargs, so their
    signatures do not name them."""
    return kwargs.pop("lora_rank", None), kwargs.pop("lora_alpha", None)


class LoraLayer:
    """Mixed into a layer whose weight LORA_WEIGHT ("kernel", "embeddings") LoRA adapts, read through
    adapted_weight(LORA_WEIGHT).  A quantizable layer defines lora_weight_shape() (the weight's float shape),
    lora_input_product(inputs, a) (its product of the inputs with factor a), and, quantizable to int8/int4,
    dequantized_weight() (symbolic) and requantized(merged) (the merged weight's quantized values, scale and
    zero point or None, which replace the stored `_<weight>`, `<weight>_scale` and `<weight>_zero`)."""
    LORA_WEIGHT = "kernel"
    # Keras 3.15's Dense and Embedding enable the LoRA their lora_rank= asks for with the rank alone, so a
    # lora_alpha= given with it is reset to the rank at build; EinsumDense and the convolutions keep it.
    BUILD_KEEPS_LORA_ALPHA = True
    lora_enabled = False

    def set_lora_arguments(self, lora_rank, lora_alpha):
        """lora_rank: enable LoRA of that rank at build (None: off); lora_alpha: the update's scale numerator."""
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank

    def enable_lora_argument(self):
        """At the end of build: the LoRA lora_rank= asked for."""
        if self.lora_rank:
            self.enable_lora(self.lora_rank, self.lora_alpha if self.BUILD_KEEPS_LORA_ALPHA else None)

    def lora_weight_shape(self):
        """The float weight's shape: the stored one's, for a layer that is never quantized (the convolutions)."""
        return getattr(self, "_" + self.LORA_WEIGHT).shape

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        """Freeze the built layer's weight and add the trainable factors lora_<weight>_a and lora_<weight>_b
        (float32, so that fine-tuning neither underflows nor overflows); the update is scaled by
        lora_alpha / rank (lora_alpha None: the rank)."""
        name = self.LORA_WEIGHT
        if getattr(self, name + "_constraint"):
            raise ValueError("Lora is incompatible with %s constraints. In order to enable lora on layer '%s', "
                             "remove the `%s_constraint` argument." % (name.rstrip("s"), self.name, name))
        if not self.built:
            raise ValueError("Cannot enable lora on a layer that isn't yet built. Layer '%s' (of type '%s') is not "
                             "built yet." % (self.name, type(self).__name__))
        if self.lora_enabled:
            raise ValueError("lora is already enabled. This can only be done once per layer (layer '%s')."
                             % self.name)
        if self.quantization_mode in CALIBRATED_MODES:
            raise NotImplementedError("lora is not currently supported with %s quantization (layer '%s')."
                                      % (self.quantization_mode.upper(), self.name))
        if not isinstance(rank, (int, np.integer)) or isinstance(rank, bool) or rank <= 0:
            raise ValueError("Layer '%s': the LoRA rank must be a positive integer. Received: rank=%r"
                             % (self.name, rank))
        shape = tuple(self.lora_weight_shape())
        regularizer = getattr(self, name + "_regularizer")
        factor_a = self.add_weight(shape[:-1] + (rank,), initializers.get(a_initializer), dtype="float32",
                                   regularizer=regularizer, name="lora_%s_a" % name)
        factor_b = self.add_weight((rank, shape[-1]), initializers.get(b_initializer), dtype="float32",
                                   regularizer=regularizer, name="lora_%s_b" % name)
        setattr(self, "lora_%s_a" % name, factor_a)
        setattr(self, "lora_%s_b" % name, factor_b)
        getattr(self, "_" + name).trainable = False
        self.lora_enabled = True
        self.lora_rank = int(rank)
        self.lora_alpha = lora_alpha if lora_alpha is not None else int(rank)

    def lora_factors(self):
        """[a, b] while LoRA is on, else []."""
        if not self.lora_enabled:
            return []
        return [getattr(self, "lora_%s_%s" % (self.LORA_WEIGHT, side)) for side in "ab"]

    def lora_update(self):
        """(lora_alpha / rank) * a @ b, in the weight's float shape."""
        factor_a, factor_b = self.lora_factors()
        return (self.lora_alpha / self.lora_rank) * ops.matmul(factor_a, factor_b)

    def plus_lora_output(self, inputs, outputs):
        """A quantized layer's outputs plus the LoRA update's product of the inputs, computed apart from the
        quantized kernel: (lora_alpha / rank) * (inputs . a) @ b."""
        if not self.lora_enabled:
            return outputs
        factor_a, factor_b = self.lora_factors()
        update = ops.matmul(self.lora_input_product(inputs, factor_a), factor_b)
        return ops.cast(ops.add(outputs, (self.lora_alpha / self.lora_rank) * update), self.compute_dtype)

    def lora_config(self):
        """The config's lora_rank and lora_alpha, there only when a rank is set (as in Keras)."""
        return {"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha} if self.lora_rank else {}

    # --- .keras files ------------------------------------------------------------------------------
    def _own_variables(self):
        """The saved variables: without the factors; a float layer's in the order it made them (kernel, bias)."""
        if not self.lora_enabled or self._is_quantized:
            return super()._own_variables()
        factors = self.lora_factors()
        return [w for w in self._weights if not any(w is factor for factor in factors)]

    def save_own_variables(self, store):
        """Keras's variables, the factors merged into the weight (re-quantized for an int8/int4 layer)."""
        super().save_own_variables(store)
        if not self.lora_enabled:
            return
        merged = self._merged_variables()
        for key, variable in list(store.items()):
            for replaced, value in merged:
                if variable is replaced:
                    store[key] = value

    def _merged_variables(self):
        """[(stored variable, value with the LoRA update merged in)]."""
        from mlcore.ops import convert_to_numpy
        name = self.LORA_WEIGHT
        if self.quantization_mode in ("int8", "int4"):
            merged = convert_to_numpy(ops.add(self.dequantized_weight(), self.lora_update()))
            variables = (getattr(self, "_" + name), getattr(self, name + "_scale"), getattr(self, name + "_zero", None))
            return [(variable, value) for variable, value in zip(variables, self.requantized(merged))
                    if value is not None]
        stored = getattr(self, "_" + name)      # merged in the compute dtype, as Keras's kernel property gives it
        return [(stored, convert_to_numpy(ops.add(stored, self.lora_update())).astype(self.compute_dtype))]

    def load_own_variables(self, store):
        """Keras's variables; the factors are zeroed, since the stored weight holds their update already."""
        super().load_own_variables(store)
        for factor in self.lora_factors():
            factor.assign(np.zeros(factor.shape, factor.dtype))
