"""model.quantize(mode): quantize every quantizable layer of a built model (Keras 3's Model.quantize)."""
import re
import warnings

from mlcore.layers.quantization import check_quantize_args


def should_quantize_layer(layer, filters):
    """Whether filters (a regex on the layer's name, a list of them, or a predicate; None: all) pick the layer."""
    if filters is None:
        return True
    if isinstance(filters, str):
        return bool(re.search(filters, layer.name))
    if isinstance(filters, (list, tuple)):
        return any(re.search(pattern, layer.name) for pattern in filters)
    return filters(layer)


def leaf_layers(layer):
    """The layers with no sublayers under layer, depth first."""
    sublayers = layer._sublayers()
    if not sublayers:
        return [layer]
    return [leaf for sublayer in sublayers for leaf in leaf_layers(sublayer)]


class ModelQuantization:
    """Mixed into Model."""

    def get_quantization_layer_structure(self, mode=None):
        """The {"pre_block_layers": [...], "sequential_blocks": [...]} that GPTQ and AWQ calibrate through when
        their config gives none; None here: a model class that knows its blocks (a transformer) overrides it."""
        return None

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantize the weights of the built model's Dense, EinsumDense, Embedding and ReversibleEmbedding
        layers ("int8"; or a QuantizationConfig); filters picks the layers (a name regex, a list of them, or a
        callable).  Other layers are left as they are, with Keras's warning.  "gptq" and "awq" (a GPTQConfig or
        AWQConfig) then calibrate the Dense and EinsumDense layers of the structure's blocks on the config's
        data (mlcore/quantizers/calibration.py)."""
        from mlcore.quantizers import calibration
        from mlcore.quantizers.quantization_config import validate_and_resolve_config
        type_check = kwargs.pop("type_check", True)
        if kwargs:
            raise ValueError("Unrecognized keyword arguments passed to %s: %s" % (type(self).__name__, kwargs))
        if filters is not None and not isinstance(filters, (str, list, tuple)) and not callable(filters):
            raise ValueError("The `filters` argument must be a regex string, a list of regex strings, or a callable. "
                             "Received: %s" % type(filters))
        config = validate_and_resolve_config(mode, config)
        check_quantize_args(self, config.mode)
        calibrated = config.mode in ("gptq", "awq")
        if calibrated:
            structure = config.quantization_layer_structure or self.get_quantization_layer_structure(config.mode)
            calibration.check_calibration(config, structure)
        modified = False
        for layer in leaf_layers(self):
            if layer is self or not should_quantize_layer(layer, filters):
                continue
            try:
                layer.quantize(config.mode, type_check=type_check, config=config)
                modified = True
            except NotImplementedError as e:
                warnings.warn(str(e))
        if calibrated:
            calibration.quantize_by_calibration(config, structure, filters)
        if modified:        # the compiled graphs read the float kernels: build them again
            self._predict_fn = None
            if self.compiled:
                self._steps.train.functions.clear()
                self._steps.test.functions.clear()
