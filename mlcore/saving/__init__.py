"""Weights files in every Keras h5 layout, with Theano-ordering conversion (see weights.py for the rules)."""
from .h5_layouts import LayerEntry, WeightsFile, read_h5, write_legacy_h5, write_weights_h5
from .theano_conversion import TheanoConversion, detect_conversion
from .weights import load_weights, save_weights

__all__ = [
    "LayerEntry",
    "TheanoConversion",
    "WeightsFile",
    "detect_conversion",
    "load_weights",
    "read_h5",
    "save_weights",
    "write_legacy_h5",
    "write_weights_h5",
]
