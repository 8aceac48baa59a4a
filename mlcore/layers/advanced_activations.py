"""Keras 1/2's module path keras.layers.advanced_activations, kept so that
`from mlcore.layers.advanced_activations import LeakyReLU` imports.  Re-exports only: the layers live
in mlcore/layers/activations.py (ThresholdedReLU, which Keras 3 dropped, too)."""
from mlcore.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU  # noqa: F401
