"""Vgg16: the fast.ai course's (2016, part 1) helper for fine-tuning VGG16 on a folder of images.

    vgg = Vgg16()                               # pretrained on ImageNet
    batches = vgg.get_batches("data/train")
    val_batches = vgg.get_batches("data/valid")
    vgg.finetune(batches)                       # new top for these classes, the rest frozen
    vgg.fit(batches, val_batches, epochs=1)
    batches, probabilities = vgg.test("data/test")

The model takes raw RGB pixels in [0, 255]: its first layer applies VGG16's preprocess_input (RGB to BGR,
minus the ImageNet mean), as the original helper did with a Lambda layer. So any ImageDataGenerator
(augmenting or not) feeds it, and predict() takes images as load_img/img_to_array give them.
"""
import numpy as np

from mlcore import config
from mlcore.applications import imagenet_utils
from mlcore.applications.vgg16 import VGG16, preprocess_input
from mlcore.layers import Dense, InputLayer, Lambda
from mlcore.models import Sequential
from mlcore.preprocessing.image import ImageDataGenerator


class Vgg16:
    """VGG16 as a Sequential model (so finetune can pop its top), with fast.ai's methods.

    weights: "imagenet", None (random) or the path of a VGG16 weights file in any Keras layout.
    input_size: the image side; only 224 fits the pretrained top, smaller sizes (weights=None or a
    file made for that size) make quick experiments. backend: where the model compiles (default: config).
    """

    def __init__(self, weights="imagenet", input_size=224, backend=None):
        self.input_size = int(input_size)
        self.backend = backend
        fmt = config.image_data_format()
        shape = (3, self.input_size, self.input_size) if fmt == "channels_first" else \
            (self.input_size, self.input_size, 3)
        vgg = VGG16(include_top=True, weights=weights, input_shape=shape)
        self.model = Sequential(name="vgg16")
        preprocess = Lambda(preprocess_input, name="preprocess", arguments={"data_format": fmt})
        for layer in [InputLayer(shape=shape), preprocess] + vgg.layers[1:]:
            self.model.add(layer, rebuild=False)      # VGG16's layers, so its weight files fit
        self.model.build()
        index = imagenet_utils.class_index()
        self.classes = [index[str(i)][1] for i in range(len(index))]

    def get_batches(self, path, gen=None, shuffle=True, batch_size=8, class_mode="categorical"):
        """Batches of images from one sub-folder per class, resized to the model's input size.
        gen: an ImageDataGenerator (default: a plain one, no augmentation)."""
        gen = gen if gen is not None else ImageDataGenerator()
        return gen.flow_from_directory(path, target_size=(self.input_size, self.input_size),
                                       class_mode=class_mode, shuffle=shuffle, batch_size=batch_size)

    def ft(self, num):
        """Replace the top with a `num`-way softmax and train only that."""
        self.model.pop()
        for layer in self.model.layers:
            layer.trainable = False
        self.model.add(Dense(num, activation="softmax"))
        self.compile()

    def finetune(self, batches):
        """ft() for the classes of `batches` (a flow_from_directory iterator), remembering their names."""
        self.ft(batches.num_classes)
        self.classes = sorted(batches.class_indices, key=batches.class_indices.get)

    def compile(self, lr=0.001):
        from mlcore.optimizers import Adam
        self.model.compile(optimizer=Adam(learning_rate=lr), loss="categorical_crossentropy",
                           metrics=["accuracy"], backend=self.backend)

    def fit(self, batches, val_batches, epochs=1, nb_epoch=None, verbose=1):
        """Train on `batches` for `epochs` (nb_epoch, fast.ai's Keras 1 name, also works)."""
        return self.model.fit(batches, validation_data=val_batches, epochs=nb_epoch or epochs, verbose=verbose)

    def fit_data(self, trn, labels, val, val_labels, nb_epoch=1, batch_size=64):
        """Train on arrays of images and one-hot labels."""
        return self.model.fit(trn, labels, validation_data=(val, val_labels), epochs=nb_epoch,
                              batch_size=batch_size)

    def test(self, path, batch_size=8):
        """(batches, predictions) for the images under `path`, in batches.filenames order."""
        batches = self.get_batches(path, shuffle=False, batch_size=batch_size, class_mode=None)
        return batches, self.model.predict(batches, verbose=0)

    def predict(self, imgs):
        """(probability of the best class, its index, its name) for each image of a batch."""
        all_preds = self.model.predict(np.asarray(imgs), verbose=0)
        idxs = np.argmax(all_preds, axis=1)
        preds = all_preds[np.arange(len(idxs)), idxs]
        return preds, idxs, [self.classes[i] for i in idxs]
