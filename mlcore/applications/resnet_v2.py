"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., "Identity Mappings in Deep Residual Networks",
ECCV 2016), as keras.applications.resnet_v2: pre-activation blocks, built by resnet.ResNet with Keras's
layer names; weights="imagenet" fetches Keras's files (resnet50v2_weights_tf_dim_ordering_tf_kernels.h5,
...), md5-checked. Inputs are scaled to [-1, 1] (tf mode).
"""
from mlcore.applications import imagenet_utils
from mlcore.applications.resnet import ResNet, decode_predictions, stacks

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "preprocess_input", "decode_predictions"]


def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
               classes=1000, classifier_activation="softmax", name="resnet50v2"):
    """The ResNet50V2 model (a functional Model), with ResNet50's arguments (mlcore.applications.ResNet50)."""
    return ResNet(stacks("50", 2), True, True, include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name, weights_name="resnet50v2")


def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="resnet101v2"):
    """The ResNet101V2 model: ResNet50V2 with 23 blocks in conv4."""
    return ResNet(stacks("101", 2), True, True, include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name, weights_name="resnet101v2")


def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="resnet152v2"):
    """The ResNet152V2 model: ResNet50V2 with 8 blocks in conv3 and 36 in conv4."""
    return ResNet(stacks("152", 2), True, True, include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name, weights_name="resnet152v2")


def preprocess_input(x, data_format=None):
    """Pixels in [0, 255] scaled to [-1, 1] (tf mode): what ResNet V2 was trained on."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")
