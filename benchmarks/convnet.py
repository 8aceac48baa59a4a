"""Workload B: convolutional-net training.

LeNet-like 32x32 net of the 2012 Theano paper at batches 1, 10, 60, and the
2010 paper's "ConvLarge" on 256x256 images at batch 1. Both use valid
convolutions, tanh, non-overlapping max-pooling, a 120-unit tanh layer and a
10-way softmax.
"""
from .training import Conv, Net, training_workload

LENET32 = Net("lenet32", input_shape=(32, 32, 1), convs=(Conv(6, 5, 2), Conv(16, 5, 2)), hidden=120)
CONVLARGE = Net("convlarge", input_shape=(256, 256, 1), convs=(Conv(6, 7, 5), Conv(16, 7, 4)),
                hidden=120)

WORKLOAD = training_workload(
    "convnet", "B. Convolutional-net training (tanh, max-pool, softmax NLL, SGD)",
    nets_and_batches=[(LENET32, (1, 10, 60)), (CONVLARGE, (1,))],
    quick=[(LENET32, (10,))])
