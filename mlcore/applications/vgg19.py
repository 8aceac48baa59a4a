"""VGG19 (Simonyan and Zisserman, ICLR 2015), as keras.applications.vgg19: VGG16 with a fourth 3x3
convolution in blocks 3 to 5 (block3_conv4, block4_conv4, block5_conv4), the same arguments, checks and
preprocessing, and Keras's pretrained files, fetched and md5-checked as VGG16's.
"""
from mlcore.applications.vgg import vgg
from mlcore.applications.vgg16 import decode_predictions, preprocess_input  # noqa: F401  (the same as VGG16's)
from mlcore.utils.file_utils import get_file

WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_FILE_NO_TOP = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_PATH = WEIGHTS_URL + WEIGHTS_FILE
WEIGHTS_PATH_NO_TOP = WEIGHTS_URL + WEIGHTS_FILE_NO_TOP
WEIGHTS_HASH = "cbe5617147190e668d6c5d5026f83318"          # md5
WEIGHTS_HASH_NO_TOP = "253f8cb515780f3b799900260a226db6"

BLOCKS = ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4)


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg19"):
    """The VGG19 model (a functional Model), with VGG16's arguments (mlcore.applications.vgg16.VGG16)."""
    return vgg(BLOCKS, imagenet_weights, include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name)


def imagenet_weights(include_top=True):
    """The local path of Keras's pretrained VGG19 file, downloaded (and md5-checked) on first use."""
    if include_top:
        return get_file(WEIGHTS_FILE, WEIGHTS_PATH, cache_subdir="models", file_hash=WEIGHTS_HASH)
    return get_file(WEIGHTS_FILE_NO_TOP, WEIGHTS_PATH_NO_TOP, cache_subdir="models", file_hash=WEIGHTS_HASH_NO_TOP)
