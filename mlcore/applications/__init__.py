"""Pretrained models, as keras.applications: VGG16 and VGG19 with preprocess_input and decode_predictions,
and Vgg16, the fast.ai course's fine-tuning helper around VGG16."""
from mlcore.applications import imagenet_utils, vgg16, vgg19  # noqa: F401
from mlcore.applications.vgg16 import VGG16  # noqa: F401
from mlcore.applications.vgg19 import VGG19  # noqa: F401
from mlcore.applications.vgg16_helper import Vgg16  # noqa: F401
