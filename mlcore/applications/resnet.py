"""ResNet50, ResNet101 and ResNet152 (He et al., CVPR 2016), as keras.applications.resnet, and the builder
that ResNet V2 (resnet_v2) shares: a 7x7 stem, four stacks of bottleneck residual blocks, then the
classifier. The same layers and layer names as Keras's (conv1_conv, conv2_block1_1_conv, ..., conv5_block3_out),
so Keras's weight files load by name or by topology; weights="imagenet" fetches Keras's own files,
md5-checked.
"""
from mlcore import config, layers
from mlcore.applications import builder, imagenet_utils
from mlcore.utils.file_utils import get_file

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
WEIGHTS_HASHES = {             # md5 of (the file with the top, the notop file)
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}
EPSILON = 1.001e-5            # every BatchNormalization's, as in the converted Caffe models

# Residual blocks per stack (conv2 .. conv5); the stacks' bottleneck widths are 64, 128, 256, 512.
DEPTHS = {"50": (3, 4, 6, 3), "101": (3, 4, 23, 3), "152": (3, 8, 36, 3)}
WIDTHS = (64, 128, 256, 512)


def ResNet(stack_fn, preact, use_bias, include_top=True, weights="imagenet", input_tensor=None,
           input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="resnet",
           weights_name=None):
    """A ResNet as a functional Model (Keras's resnet.ResNet): stack_fn(x) builds the residual stacks;
    preact: pre-activation (V2: no BN/ReLU after conv1, one after the stacks); use_bias of conv1.
    weights_name: the key of Keras's pretrained files in WEIGHTS_HASHES (e.g. "resnet50")."""
    img_input = builder.checked_input(weights, include_top, classes, classifier_activation, input_tensor,
                                      input_shape, default_size=224, min_size=32)

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = _batch_norm_relu(x, "conv1_bn", "conv1_relu")
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = _batch_norm_relu(x, "post_bn", "post_relu")

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = builder.global_pooling(x, pooling, names=("avg_pool", "max_pool"))
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(weights_name, include_top))


def imagenet_weights(weights_name, include_top=True):
    """The local path of Keras's pretrained file for weights_name (e.g. "resnet50"), downloaded and
    md5-checked on first use."""
    file_name = weights_name + ("_weights_tf_dim_ordering_tf_kernels.h5" if include_top
                                else "_weights_tf_dim_ordering_tf_kernels_notop.h5")
    return get_file(file_name, BASE_WEIGHTS_PATH + file_name, cache_subdir="models",
                    file_hash=WEIGHTS_HASHES[weights_name][0 if include_top else 1])


def _bn_axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def _batch_norm(x, name):
    return layers.BatchNormalization(axis=_bn_axis(), epsilon=EPSILON, name=name)(x)


def _batch_norm_relu(x, bn_name, relu_name):
    return layers.Activation("relu", name=relu_name)(_batch_norm(x, bn_name))


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """A bottleneck block (1x1, kxk, 1x1 to 4*filters) added to its shortcut, then ReLU."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = _batch_norm(shortcut, name + "_0_bn")
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = _batch_norm_relu(x, name + "_1_bn", name + "_1_relu")
    x = layers.Conv2D(filters, kernel_size, padding="same", name=name + "_2_conv")(x)
    x = _batch_norm_relu(x, name + "_2_bn", name + "_2_relu")
    x = _batch_norm(layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x), name + "_3_bn")
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    """`blocks` V1 blocks; the first one projects its shortcut and strides by stride1."""
    x = residual_block_v1(x, filters, stride=stride1, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name="%s_block%d" % (name, i))
    return x


def residual_block_v2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """A pre-activation bottleneck block (BN and ReLU before each convolution) added to its shortcut;
    the stride is on the 3x3 convolution, the identity shortcut strided by a 1x1 max pooling."""
    preact = _batch_norm_relu(x, name + "_preact_bn", name + "_preact_relu")
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=name + "_1_conv")(preact)
    x = _batch_norm_relu(x, name + "_1_bn", name + "_1_relu")
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=name + "_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=name + "_2_conv")(x)
    x = _batch_norm_relu(x, name + "_2_bn", name + "_2_relu")
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    return layers.Add(name=name + "_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters, blocks, stride1=2, name=None):
    """`blocks` V2 blocks; the first projects its shortcut, the last strides by stride1."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=name + "_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name="%s_block%d" % (name, i))
    return residual_block_v2(x, filters, stride=stride1, name="%s_block%d" % (name, blocks))


def stacks(depth, version):
    """stack_fn for ResNet: the four stacks conv2..conv5 of a ResNet `depth` ("50", "101", "152"),
    V1 (stride 2 at the start of conv3..conv5) or V2 (stride 2 at the end of conv2..conv4)."""
    stack, strides = ((stack_residual_blocks_v1, (1, 2, 2, 2)) if version == 1
                      else (stack_residual_blocks_v2, (2, 2, 2, 1)))

    def stack_fn(x):
        for k, (filters, blocks, stride) in enumerate(zip(WIDTHS, DEPTHS[depth], strides), start=2):
            x = stack(x, filters, blocks, stride1=stride, name="conv%d" % k)
        return x
    return stack_fn


def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="resnet50"):
    """The ResNet50 model (a functional Model).

    weights: None (random initialisation), "imagenet" (downloaded once, md5-checked) or the path of a
    weights file in any Keras layout. input_shape may only differ from (224, 224, 3) without the top
    (then at least 32x32). pooling (without the top): None, "avg" or "max". Inputs are expected
    preprocessed by preprocess_input (caffe mode).
    """
    return ResNet(stacks("50", 1), False, True, include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name, weights_name="resnet50")


def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name="resnet101"):
    """The ResNet101 model: ResNet50 with 23 blocks in conv4; the same arguments."""
    return ResNet(stacks("101", 1), False, True, include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name, weights_name="resnet101")


def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name="resnet152"):
    """The ResNet152 model: ResNet50 with 8 blocks in conv3 and 36 in conv4; the same arguments."""
    return ResNet(stacks("152", 1), False, True, include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name, weights_name="resnet152")


def preprocess_input(x, data_format=None):
    """RGB to BGR, then minus the ImageNet mean pixel (caffe mode), no scaling: what ResNet V1 was trained
    on. Numpy arrays (a new array) or symbolic tensors; pixels in [0, 255]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """[[(class_id, class_name, score), ...] for each image], best `top` first."""
    return imagenet_utils.decode_predictions(preds, top=top)
