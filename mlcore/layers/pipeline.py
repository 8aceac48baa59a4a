"""Pipeline: layers applied one after another as one layer (keras.layers.Pipeline), typically a chain of
preprocessing or augmentation layers kept together outside a model."""
from mlcore.keras_masks import get_keras_mask
from mlcore.layers.base import Layer
from mlcore.layers.structure import flatten, map_structure


class Pipeline(Layer):
    """layer(inputs) = layers[-1](...layers[0](inputs)).  Each layer gets the mask the one before it
    produced, and the training flag; called outside a model, training defaults to True as in Keras (random
    augmentations then apply).  The layers' weights are the pipeline's, saved under its `layers`.  As Keras's
    it defines no compute_mask, so it does not support masking: a mask reaches its outputs only where a
    layer's call attached one."""

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError("`Pipeline` takes a list of layers. Received: layers=%r" % (layers,))
        self._pipeline_layers = list(layers)

    @property
    def layers(self):
        return self._pipeline_layers

    def call(self, inputs, training=True, mask=None):
        for layer in self._pipeline_layers:
            if not layer.built:
                layer.build(map_structure(lambda t: t.type.shape, inputs))
                layer.built = True
            outputs = layer.call_for_step(inputs, training, mask=mask)
            mask = self._mask_after(layer, inputs, outputs, mask)
            inputs = outputs
        return outputs

    @staticmethod
    def _mask_after(layer, inputs, outputs, mask):
        """The mask of a layer's outputs: the one its call set, else what its compute_mask says."""
        carried = [get_keras_mask(t) for t in flatten(outputs)]
        if any(m is not None for m in carried):
            return carried[0] if len(carried) == 1 else carried
        return layer.compute_mask(inputs, mask) if layer.supports_masking else None

    def get_config(self):
        from mlcore.models.serialization import layer_config    # mlcore.models imports the layers
        return {"layers": [layer_config(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mlcore.models.serialization import layer_from_config
        from mlcore.saving.keras3_config import mlcore_spec
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError("`Pipeline` config must contain a `layers` key mapping to a list of serialized "
                             "layers. Received config with layers=%r." % (layers,))
        # a .keras archive's nested specs are in Keras's form ({"module", "class_name", "config", ...})
        layers = [layer_from_config(mlcore_spec(spec, custom_objects) if "module" in spec else spec, custom_objects)
                  for spec in layers]
        return cls(layers, name=config.get("name"))
