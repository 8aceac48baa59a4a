"""What VGG16 and VGG19 (Simonyan and Zisserman, ICLR 2015) share, as keras.applications builds them: blocks
of 3x3 "same" convolutions with ReLU, each block ending in a 2x2 max pooling, then the classifier (flatten,
fc1, fc2, predictions) or a global pooling; Keras's layer names (block1_conv1 ... block5_pool), so Keras's
weight files load into either.
"""
from mlcore import config, layers
from mlcore.applications import builder, imagenet_utils


def vgg(blocks, imagenet_weights, include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name):
    """A VGG of the given blocks (filters of each conv, per block) as a functional Model; see VGG16.
    imagenet_weights(include_top) gives the local path of the pretrained file."""
    builder.check_arguments(weights, include_top, classes, classifier_activation)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = builder.image_input(input_tensor, input_shape)

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
    else:
        x = builder.global_pooling(x, pooling)
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(include_top))
