"""Pretrained models, as keras.applications: VGG16 with preprocess_input and decode_predictions, and
Vgg16, the fast.ai course's fine-tuning helper around it."""
from mlcore.applications import imagenet_utils, vgg16  # noqa: F401
from mlcore.applications.vgg16 import VGG16  # noqa: F401
from mlcore.applications.vgg16_helper import Vgg16  # noqa: F401
