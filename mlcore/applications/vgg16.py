"""VGG16 (Simonyan and Zisserman, ICLR 2015), as keras.applications.vgg16: the same layers and layer
names, so Keras's weight files load into it, and the same arguments and checks.

The pretrained weights are Keras's own files, fetched once by mlcore.utils.get_file into
$MLCORE_HOME/models (or found in ~/.keras/models) and checked against their md5. Loading reads arrays
only; nothing in a weights file is ever executed.
"""
from mlcore.applications import imagenet_utils
from mlcore.applications.vgg import vgg
from mlcore.utils.file_utils import get_file

WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
WEIGHTS_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_FILE_NO_TOP = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_PATH = WEIGHTS_URL + WEIGHTS_FILE
WEIGHTS_PATH_NO_TOP = WEIGHTS_URL + WEIGHTS_FILE_NO_TOP
WEIGHTS_HASH = "64373286793e3c8b2b4e3219cbf3544b"          # md5
WEIGHTS_HASH_NO_TOP = "6d6bbae143d832006294945121d1f1fc"

# (filters of each 3x3 conv) per block; every block ends with a 2x2 max pooling.
BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg16"):
    """The VGG16 model (a functional Model).

    weights: None (random initialisation), "imagenet" (downloaded once, md5-checked) or the path of a
    weights file in any Keras layout (Keras 1/2/3, Theano orderings converted). input_shape may only
    differ from (224, 224, 3) without the top (then at least 32x32). pooling (without the top):
    None, "avg" or "max". Inputs are expected preprocessed by preprocess_input.
    """
    return vgg(BLOCKS, imagenet_weights, include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name)


def imagenet_weights(include_top=True):
    """The local path of Keras's pretrained VGG16 file, downloaded (and md5-checked) on first use."""
    if include_top:
        return get_file(WEIGHTS_FILE, WEIGHTS_PATH, cache_subdir="models", file_hash=WEIGHTS_HASH)
    return get_file(WEIGHTS_FILE_NO_TOP, WEIGHTS_PATH_NO_TOP, cache_subdir="models", file_hash=WEIGHTS_HASH_NO_TOP)


def preprocess_input(x, data_format=None):
    """RGB to BGR, then minus the ImageNet mean pixel [103.939, 116.779, 123.68] (BGR), no scaling:
    what VGG16 was trained on. Numpy arrays (a new array) or symbolic tensors; pixels in [0, 255]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """[[(class_id, class_name, score), ...] for each image], best `top` first."""
    return imagenet_utils.decode_predictions(preds, top=top)
