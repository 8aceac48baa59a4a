"""A preprocessing layer made, adapted (when adapt= is given) and called on data: what the lookup and text
vectorization tests do over and over."""


def adapted_call(layer_class, data, adapt=None, **kwargs):
    layer = layer_class(**kwargs)
    if adapt is not None:
        layer.adapt(adapt)
    return layer(data)


def batches_then_endless(batches, filler):
    """A generator of the given batches, then of `filler` without end: adapt(..., steps=) must stop in time."""
    yield from batches
    while True:
        yield filler
