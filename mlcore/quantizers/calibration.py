"""Calibration for model.quantize("gptq" / "awq") (Keras 3's gptq_core.py and awq_core.py): the dataset
tokenized and cut into num_samples windows of sequence_length tokens, passed through the structure's
pre_block_layers (an Embedding...), then through its sequential_blocks one at a time.  For each block, the
inputs of its Dense and EinsumDense layers feed one GPTQ or AWQ object per layer, which then quantizes that
layer; the block's outputs, computed with its layers quantized, are the next block's inputs, so each block
is calibrated on what the quantized blocks before it produce.

mlcore's layers build graphs, so a block's layer inputs are caught as symbolic tensors (each layer's call
wrapped while the block is called on a placeholder) and computed by one compiled function per block."""
import contextlib
import functools
import math

import numpy as np

from mlcore.graph.basic import TensorType
from mlcore.models.model_quantization import leaf_layers, should_quantize_layer


def check_calibration(config, structure):
    """Keras's errors for a GPTQ or AWQ quantization without data or without a layer structure, raised before
    any layer changes."""
    name = config.mode.upper()
    if config.dataset is None or config.tokenizer is None:
        raise ValueError("%s quantization requires a dataset and a tokenizer. Please provide them in the `%sConfig`."
                         % (name, name))
    if structure is None:
        raise ValueError("For mode='%s', a valid quantization structure must be provided either via "
                         "`config.quantization_layer_structure` or by overriding "
                         "`model.get_quantization_layer_structure(mode)`. The structure should be a dictionary "
                         "with keys 'pre_block_layers' and 'sequential_blocks'." % config.mode)
    if not structure.get("sequential_blocks"):
        raise ValueError("No sequential blocks found in the provided structure to quantize.")


def get_dataloader(tokenizer, sequence_length, dataset, num_samples=128, *, strategy="strided", seed=42, stride=None,
                   eos_id=None):
    """(num_samples, 1, sequence_length) int32 windows of the dataset's tokens (strings tokenized with
    tokenizer.tokenize, eos_id between documents; token arrays flattened), the tokens repeated when too few.
    strategy: "strided" (every stride-th start from an offset that hash(seed) picks), "linspace" or "random"."""
    if not hasattr(dataset, "__iter__") or isinstance(dataset, (str, bytes)):
        raise TypeError("The `dataset` argument must be an iterable (e.g., a list of strings, a generator, or a NumPy "
                        "array). Got type: %s. Please pass the loaded dataset directly." % type(dataset).__name__)
    documents = list(dataset)
    if not documents:
        raise ValueError("Provided dataset is empty.")
    pieces = []
    for i, document in enumerate(documents):
        if isinstance(document, str):
            pieces.append(np.asarray(tokenizer.tokenize(document)).reshape(-1))
            if eos_id is not None and i < len(documents) - 1:
                pieces.append(np.array([eos_id], "int32"))
        else:
            pieces.append(np.asarray(document).reshape(-1))
    tokens = np.concatenate(pieces).astype("int32")
    needed = num_samples * sequence_length
    if tokens.size < needed:
        tokens = np.tile(tokens, math.ceil(needed / max(1, tokens.size)))
    max_start = tokens.size - sequence_length
    if max_start < 0:
        raise ValueError("Not enough tokens to form one sample of length %d (have %d)." % (sequence_length, tokens.size))
    if strategy == "random":
        starts = np.random.default_rng(seed).integers(0, max_start + 1, size=num_samples, dtype=np.int64)
    elif strategy == "linspace":
        starts = np.linspace(0, max_start, num_samples, dtype=np.int64)
    elif strategy == "strided":
        stride = max(1, (max_start + 1) // num_samples) if stride is None else stride
        offset = abs(hash(("gptq-calib", seed))) % (max_start + 1) if max_start > 0 else 0
        starts = (offset + np.arange(num_samples, dtype=np.int64) * stride) % (max_start + 1)
    else:
        raise ValueError("Unknown strategy: %s" % (strategy,))
    windows = np.lib.stride_tricks.sliding_window_view(tokens, sequence_length)
    return windows[starts].astype("int32")[:, None, :]


def find_layers_in_block(block):
    """The block's Dense and EinsumDense layers without sublayers, by path."""
    from mlcore.layers import Dense, EinsumDense
    return {layer.path: layer for layer in leaf_layers(block) if isinstance(layer, (Dense, EinsumDense))}


@contextlib.contextmanager
def _recording_inputs(layers):
    """While active, each call of one of layers appends its input tensor to that layer's list."""
    recorded = {name: [] for name in layers}

    def recording(name, call):
        @functools.wraps(call)
        def wrapper(*args, **kwargs):
            recorded[name].append(args[0] if args else kwargs["inputs"])
            return call(*args, **kwargs)
        return wrapper

    for name, layer in layers.items():
        layer.call = recording(name, layer.call)
    try:
        yield recorded
    finally:
        for layer in layers.values():
            del layer.call      # the class's call again


def _placeholder(example):
    return TensorType(example.dtype, example.shape)()


def _compiled(build, example):
    """build(placeholder) -> outputs, compiled into a function of arrays shaped and typed as example."""
    from mlcore.function import function
    placeholder = _placeholder(example)
    return function([placeholder], build(placeholder), on_unused_input="ignore")


def _with_batch_dim(sample):
    """A 2-D sample gets a batch dim of 1 (Keras's rule: a block takes (1, ...) inputs)."""
    return sample[None] if sample.ndim == 2 else sample


def _pre_block_outputs(dataloader, pre_layers):
    def run(x):
        for layer in pre_layers:
            x = layer(x)
        return x
    run_pre_layers = _compiled(run, dataloader[0])
    return [np.asarray(run_pre_layers(batch)) for batch in dataloader]


def quantize_by_calibration(config, structure, filters=None):
    """model.quantize's GPTQ or AWQ step, once the layers have their quantized variables."""
    from mlcore.quantizers.awq import AWQ
    from mlcore.quantizers.gptq import GPTQ
    if config.mode == "gptq":
        calibrate(config, structure, GPTQ, GPTQ.update_hessian_with_batch, GPTQ.quantize_and_correct_layer, filters)
    else:
        calibrate(config, structure, AWQ, AWQ.update_activation_magnitudes, AWQ.quantize_layer, filters)


def calibrate(config, structure, quantizer_class, update, quantize, filters=None):
    """Calibrate and quantize the structure's blocks on the config's data.  quantizer_class(layer, config) makes
    a layer's GPTQ/AWQ object, update(object, inputs) feeds it a layer's inputs, quantize(object) quantizes the
    layer from them."""
    dataloader = get_dataloader(config.tokenizer, config.sequence_length, config.dataset,
                                num_samples=config.num_samples)[:config.num_samples]
    inputs = _pre_block_outputs(dataloader, structure.get("pre_block_layers", []))
    blocks = structure["sequential_blocks"]
    for index, block in enumerate(blocks):
        layers = {name: layer for name, layer in find_layers_in_block(block).items()
                  if should_quantize_layer(layer, filters)}
        if layers:
            _calibrate_block(block, layers, inputs, config, quantizer_class, update, quantize)
        if index < len(blocks) - 1:
            run_block = _compiled(block, _with_batch_dim(inputs[0]))
            inputs = [np.asarray(run_block(_with_batch_dim(x)))[0] for x in inputs]


def _calibrate_block(block, layers, inputs, config, quantizer_class, update, quantize):
    """Each of layers' inputs, over all samples, fed to its quantizer; then each layer quantized."""
    from mlcore.function import function
    quantizers = {name: quantizer_class(layer, config) for name, layer in layers.items()}
    placeholder = _placeholder(_with_batch_dim(inputs[0]))
    with _recording_inputs(layers) as recorded:
        block(placeholder)
    owners = [name for name in layers for _ in recorded[name]]      # a layer called twice has two inputs
    run = function([placeholder], [tensor for name in layers for tensor in recorded[name]], on_unused_input="ignore")
    for x in inputs:
        for name, value in zip(owners, run(_with_batch_dim(x))):
            update(quantizers[name], np.asarray(value).reshape(-1, quantizers[name].rows))
    for name in layers:
        quantize(quantizers[name])
        quantizers[name].free()
