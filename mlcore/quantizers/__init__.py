"""keras.quantizers: the quantizers and quantization configs that model.quantize() uses, and the
quantization math (abs-max, int4 packing, fake quantization, float8 scaling) as functions."""
from mlcore.quantizers.calibration_config import AWQConfig, GPTQConfig  # noqa: F401
from mlcore.quantizers.grouped import (abs_max_quantize_grouped_with_zero_point,  # noqa: F401
                                      dequantize_with_sz_map)
from mlcore.quantizers.int4_packing import pack_int4, unpack_int4  # noqa: F401
from mlcore.quantizers.quantization_config import (Float8QuantizationConfig, Int4QuantizationConfig,  # noqa: F401
                                                   Int8QuantizationConfig, QuantizationConfig)
from mlcore.quantizers.quantizers import (AbsMaxQuantizer, Quantizer, abs_max_quantize,  # noqa: F401
                                          compute_float8_amax_history, compute_float8_scale,
                                          fake_quant_with_min_max_vars, quantize_and_dequantize)
from mlcore.utils.naming import to_snake_case
from mlcore.utils.registry import ObjectRegistry

ALL_OBJECTS = (Quantizer, AbsMaxQuantizer, QuantizationConfig, Int8QuantizationConfig, Int4QuantizationConfig,
               Float8QuantizationConfig, GPTQConfig, AWQConfig)
ALL_OBJECTS_DICT = {**{cls.__name__: cls for cls in ALL_OBJECTS},
                    **{to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS}}
_registry = ObjectRegistry("quantizer", "keras.quantizers", (Quantizer, QuantizationConfig), ALL_OBJECTS_DICT)


def serialize(initializer):
    """Keras's {"module": "keras.quantizers", "class_name", "config", "registered_name"}; the argument is a
    quantizer, named `initializer` as in Keras so that keyword calls work alike."""
    return _registry.serialize(initializer)


def deserialize(config, custom_objects=None):
    return _registry.deserialize(config, custom_objects)


def get(identifier, **kwargs):
    """A quantizer from None, a serialized dict, a class name (made with kwargs) or a quantizer."""
    if identifier is None:
        return None
    obj = deserialize(identifier) if isinstance(identifier, dict) else \
        ALL_OBJECTS_DICT.get(identifier) if isinstance(identifier, str) else identifier
    if not callable(obj):
        raise ValueError("Could not interpret quantizer identifier: %s" % (identifier,))
    return obj(**kwargs) if isinstance(obj, type) else obj
