"""Keras's naming rule, in one place: class names to the snake_case of layer, optimizer, loss,
metric and initializer names."""
import re


def to_snake_case(name):
    """Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, BatchNormalization -> batch_normalization."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
