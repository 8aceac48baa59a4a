"""Workload A: the paper's MLP, 784 -> 500 tanh -> 10 softmax, SGD on the NLL, batches 1, 10 and 60."""
from .training import Net, training_workload

MLP = Net("mlp", input_shape=(784,), hidden=500)

WORKLOAD = training_workload(
    "mlp", "A. MLP 784-500-10 training (tanh, softmax NLL, SGD)",
    nets_and_batches=[(MLP, (1, 10, 60))], quick=[(MLP, (60,))])
