"""A live tour of mlcore's insides: one small model through graph, gradient,
rewrites and kernels.  docs/INTERNALS.md walks through this script's output.

    python examples/graph_tour.py
"""
import numpy as np

import mlcore
import mlcore.tensor as T
from backends.numpy.c_loops import CompiledLoop
from mlcore.graph.basic import toposort
from mlcore.layers import Dense


def section(title):
    print("\n" + "=" * 72 + "\n" + title + "\n" + "=" * 72)


def main():
    rng = np.random.default_rng(0)

    section("1. A graph: logistic regression built with mlcore.tensor (nothing is computed yet)")
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = mlcore.shared(rng.normal(size=3), name="w")
    b = mlcore.shared(0.0, name="b")
    p = 1 / (1 + T.exp(-T.dot(x, w) - b))
    cost = (-y * T.log(p) - (1 - y) * T.log(1 - p)).mean()
    print("cost is a", type(cost).__name__, "of type", cost.type)
    print("its graph has", len(toposort([cost])), "Apply nodes:")
    mlcore.debugprint(cost)

    section("2. The gradient is more graph: grad() applies each op's pullback in reverse order")
    gw, gb = T.grad(cost, [w, b])
    print("d cost / d w:", gw.type, "computed by", len(toposort([gw])), "nodes")
    print("(grad first rewrote the cost with the 'stabilize' pass: 1/(1+exp(-z)) became sigmoid(z),")
    print(" and log(sigmoid(z)) became -softplus(-z), so large |z| gives no inf or nan)")

    section("3. Compile: the rewrites (merge, fold, canonicalize, stabilize, specialize, fusion) run first")
    train = mlcore.function([x, y], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], backend="numpy")
    mlcore.debugprint(train)

    section("4. Run it: numbers in, numbers out; shared variables keep their values between calls")
    data = rng.normal(size=(100, 3))
    labels = (data @ np.array([1.0, -2.0, 0.5]) > 0).astype("float64")
    for step in range(3):
        print("step %d: cost %.4f" % (step, train(data, labels)))
    print("w =", w.get_value())

    section("5. The same graph on the other backends: the same numbers")
    for backend in ("jax", "theano"):
        try:
            fn = mlcore.function([x, y], cost, backend=backend)
        except (ImportError, ValueError) as err:
            print(backend, "unavailable:", err)
            continue
        print("%-6s cost %.10f" % (backend, fn(data, labels)))
    print("numpy  cost %.10f" % mlcore.function([x, y], cost, backend="numpy")(data, labels))

    section("6. Fusion: a**2 + c**2 + 2*a*c is one Composite node, on large arrays one C loop")
    a, c = T.dvector("a"), T.dvector("c")
    fused = mlcore.function([a, c], a ** 2 + c ** 2 + 2 * a * c, backend="numpy")
    mlcore.debugprint(fused)
    (node,) = fused.fgraph.toposort()
    print("\nThe C the numpy backend compiles for it (backends/numpy/c_loops.py):\n")
    print(CompiledLoop.of(node.op, node).source, end="")

    section("7. From a layer: Dense builds the same kind of graph (dot, add, activation)")
    layer = Dense(2, activation="softmax", name="dense")
    inputs = T.fmatrix("inputs", shape=(None, 3))
    outputs = layer(inputs)
    mlcore.debugprint(outputs)
    print("the layer's weights are shared variables:", [v.path for v in layer.weights])

    section("8. Profile: where the time of a compiled function goes, per op (Theano's profiler)")
    profiled = mlcore.function([x, y], cost, backend="numpy", profile=True, name="cost")
    for _ in range(20):
        profiled(data, labels)
    print(profiled.profile.summary(n=6))


if __name__ == "__main__":
    main()
