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
from mlcore.applications import densenet, inception_resnet_v2, inception_v3, xception  # noqa: F401,E402
from mlcore.applications.densenet import DenseNet121, DenseNet169, DenseNet201  # noqa: F401,E402
from mlcore.applications.inception_resnet_v2 import InceptionResNetV2  # noqa: F401,E402
from mlcore.applications.inception_v3 import InceptionV3  # noqa: F401,E402
from mlcore.applications.xception import Xception  # noqa: F401,E402
from mlcore.applications import nasnet  # noqa: F401,E402
from mlcore.applications.nasnet import NASNetLarge, NASNetMobile  # noqa: F401,E402
from mlcore.applications import efficientnet, efficientnet_v2, mobilenet_v3  # noqa: F401,E402
from mlcore.applications.efficientnet import (  # noqa: F401,E402
    EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4, EfficientNetB5, EfficientNetB6,
    EfficientNetB7)
from mlcore.applications.efficientnet_v2 import (  # noqa: F401,E402
    EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2, EfficientNetV2B3, EfficientNetV2L, EfficientNetV2M,
    EfficientNetV2S)
from mlcore.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small  # noqa: F401,E402
from mlcore.applications import convnext  # noqa: F401,E402
from mlcore.applications.convnext import (  # noqa: F401,E402
    ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge)
