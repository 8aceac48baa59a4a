"""What VGG16 and VGG19 (Simonyan and Zisserman, ICLR 2015) share, as keras.applications builds them: blocks
of 3x3 "same" convolutions with ReLU, each block ending in a 2x2 max pooling, then the classifier (flatten,
fc1, fc2, predictions) or a global pooling; Keras's layer names (block1_conv1 ... block5_pool), so Keras's
weight files load into either.
"""
import os

from mlcore import config, layers
from mlcore.applications import imagenet_utils
from mlcore.models import Model


def vgg(blocks, imagenet_weights, include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name):
    """A VGG of the given blocks (filters of each conv, per block) as a functional Model; see VGG16.
    imagenet_weights(include_top) gives the local path of the pretrained file."""
    if not (weights in ("imagenet", None) or os.path.exists(weights)):
        raise ValueError("The `weights` argument should be either `None` (random initialization), 'imagenet' "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded.  "
                         "Received: weights=%s" % (weights,))
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
                         "Received classes=%s" % (classes,))
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
    elif "keras_history" in input_tensor.tag:
        img_input = input_tensor
    else:
        img_input = layers.Input(tensor=input_tensor, shape=input_shape)

    x = img_input
    for b, widths in enumerate(blocks, start=1):
        for c, filters in enumerate(widths, start=1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name="block%d_conv%d" % (b, c))(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name="block%d_pool" % b)(x)

    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    inputs = img_input if input_tensor is None else imagenet_utils.get_source_inputs(img_input)
    model = Model(inputs, x, name=name)

    if weights == "imagenet":
        model.load_weights(imagenet_weights(include_top))
    elif weights is not None:
        model.load_weights(weights)
    return model
