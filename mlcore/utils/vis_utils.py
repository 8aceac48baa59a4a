"""Keras 2's module path keras.utils.vis_utils, kept so that `from mlcore.utils.vis_utils import
plot_model` imports.  Re-exports only: the functions live in mlcore/utils/model_visualization.py."""
from mlcore.utils.model_visualization import model_to_dot, plot_model  # noqa: F401
