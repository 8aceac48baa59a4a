"""Layers whose output is their input: Identity (a placeholder in a model's graph) and
ActivityRegularization (which adds a penalty on the values passing through to the training loss)."""
from mlcore import regularizers
from mlcore.layers.base import Layer


class Identity(Layer):
    supports_masking = True
    rowwise = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._build_at_init()

    def call(self, inputs):
        return inputs


class ActivityRegularization(Layer):
    """Adds l1 * sum(|x|) + l2 * sum(x ** 2), over the batch size, to the loss (Keras 3's activity penalty)."""
    supports_masking = True
    rowwise = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2
        self._build_at_init()

    def call(self, inputs):
        return inputs       # Layer.__call__ adds the activity penalty

    def get_config(self):
        config = {**super().get_config(), "l1": self.l1, "l2": self.l2}
        del config["activity_regularizer"]      # Keras's: l1 and l2 say it
        return config
