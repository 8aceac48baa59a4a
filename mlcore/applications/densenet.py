"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al., CVPR 2017), as keras.applications.densenet: a 7x7
stem, four dense blocks (each conv block's 32 new channels concatenated to all before them) joined by
transition blocks that halve the channels and the size, then the classifier. Keras's layer names
(conv1_conv, conv2_block1_0_bn, pool2_conv, ..., bn), so Keras's weight files load by name or by topology;
weights="imagenet" fetches Keras's own files, md5-checked. Like Keras's, channels_last only.
"""
from mlcore import layers
from mlcore.applications import builder, imagenet_utils
from mlcore.applications.mobilenet import channel_axis
from mlcore.utils.file_utils import get_file

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
# conv blocks per dense block: the model's name, md5 of (the file with the top, the notop file)
BLOCKS = {
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
GROWTH_RATE = 32
EPSILON = 1.001e-5


def DenseNet(blocks, include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="densenet"):
    """A DenseNet as a functional Model (Keras's densenet.DenseNet): blocks, the number of conv blocks in
    each of the four dense blocks; weights="imagenet" exists for the three of BLOCKS."""
    builder.channels_last_only("DenseNet")
    img_input = builder.checked_input(weights, include_top, classes, classifier_activation, input_tensor,
                                      input_shape, default_size=224, min_size=32)

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _batch_norm_relu(x, "conv1_bn", "conv1_relu")
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for k, count in enumerate(blocks, start=2):
        if k > 2:
            x = transition_block(x, 0.5, name="pool%d" % (k - 1))
        x = dense_block(x, count, name="conv%d" % k)
    x = _batch_norm_relu(x, "bn", "relu")

    x = builder.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation,
                                      pool_names=("avg_pool", "max_pool"))
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(tuple(blocks), include_top))


def imagenet_weights(blocks, include_top=True):
    """The local path of Keras's pretrained file for the DenseNet with these blocks, downloaded and
    md5-checked on first use."""
    if blocks not in BLOCKS:
        raise ValueError("weights_path undefined")
    model_name, top_hash, notop_hash = BLOCKS[blocks]
    file_name = model_name + ("_weights_tf_dim_ordering_tf_kernels.h5" if include_top
                              else "_weights_tf_dim_ordering_tf_kernels_notop.h5")
    return get_file(file_name, BASE_WEIGHTS_PATH + file_name, cache_subdir="models",
                    file_hash=top_hash if include_top else notop_hash)


def _batch_norm_relu(x, bn_name, relu_name):
    x = layers.BatchNormalization(axis=channel_axis(), epsilon=EPSILON, name=bn_name)(x)
    return layers.Activation("relu", name=relu_name)(x)


def dense_block(x, blocks, name):
    """`blocks` conv blocks, each adding GROWTH_RATE channels."""
    for i in range(1, blocks + 1):
        x = conv_block(x, GROWTH_RATE, name="%s_block%d" % (name, i))
    return x


def transition_block(x, reduction, name):
    """BN, ReLU, a 1x1 convolution to `reduction` of the channels, 2x2 average pooling."""
    x = _batch_norm_relu(x, name + "_bn", name + "_relu")
    x = layers.Conv2D(int(x.shape[channel_axis()] * reduction), 1, use_bias=False, name=name + "_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=name + "_pool")(x)


def conv_block(x, growth_rate, name):
    """x with growth_rate new channels concatenated: BN-ReLU-1x1 (4 * growth_rate), BN-ReLU-3x3."""
    y = _batch_norm_relu(x, name + "_0_bn", name + "_0_relu")
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=name + "_1_conv")(y)
    y = _batch_norm_relu(y, name + "_1_bn", name + "_1_relu")
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=name + "_2_conv")(y)
    return layers.Concatenate(axis=channel_axis(), name=name + "_concat")([x, y])


def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="densenet121"):
    """The DenseNet121 model (a functional Model).

    weights: None (random initialisation), "imagenet" (downloaded once, md5-checked) or the path of a
    weights file in any Keras layout. input_shape may only differ from (224, 224, 3) without the top
    (then at least 32x32). pooling (without the top): None, "avg" or "max". Inputs are expected
    preprocessed by preprocess_input (torch mode).
    """
    return DenseNet([6, 12, 24, 16], include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name=name)


def DenseNet169(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="densenet169"):
    """The DenseNet169 model: DenseNet121 with 32 blocks in the last two dense blocks; the same arguments."""
    return DenseNet([6, 12, 32, 32], include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name=name)


def DenseNet201(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="densenet201"):
    """The DenseNet201 model: DenseNet121 with 48 and 32 blocks in the last two dense blocks; the same
    arguments."""
    return DenseNet([6, 12, 48, 32], include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name=name)


def preprocess_input(x, data_format=None):
    """Pixels in [0, 255] scaled to [0, 1], then normalised by the ImageNet mean and std per channel
    (torch mode): what DenseNet was trained on."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """[[(class_id, class_name, score), ...] for each image], best `top` first."""
    return imagenet_utils.decode_predictions(preds, top=top)
