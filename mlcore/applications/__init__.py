"""Pretrained models, as keras.applications: VGG16, VGG19, ResNet50/101/152, ResNet50V2/101V2/152V2,
MobileNet and MobileNetV2, each module with its preprocess_input and decode_predictions,
and Vgg16, the fast.ai course's fine-tuning helper around VGG16."""
from mlcore.applications import (  # noqa: F401
    imagenet_utils, mobilenet, mobilenet_v2, resnet, resnet50, resnet_v2, vgg16, vgg19)
from mlcore.applications.mobilenet import MobileNet  # noqa: F401
from mlcore.applications.mobilenet_v2 import MobileNetV2  # noqa: F401
from mlcore.applications.resnet import ResNet50, ResNet101, ResNet152  # noqa: F401
from mlcore.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2  # noqa: F401
from mlcore.applications.vgg16 import VGG16  # noqa: F401
from mlcore.applications.vgg19 import VGG19  # noqa: F401
from mlcore.applications.vgg16_helper import Vgg16  # noqa: F401
