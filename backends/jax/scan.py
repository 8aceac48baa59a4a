"""The jax backend's Scan: jax.lax.scan of the step graph, traced with this backend's kernels.

The carry holds, per recurrent output, the window of its last values (oldest first); the
number of steps must be known when jax traces, as every shape is (a static jit argument
where it comes from an input, see concrete_inputs).
"""
import jax
import jax.numpy as jnp


def scan_kernel(op, node):
    from backends.base import Plan
    from backends.jax.compiler import ConcreteFirst
    plan = Plan(op.step.function_graph(), ConcreteFirst())
    constants = [c.data for c in plan.constants]

    def run(n_steps, *inputs):
        sequences, initials, invariants = op.split(inputs)

        def body(windows, rows):
            taps = [w[k] for w, j in zip(windows, op.recurrent) for k in op.taps[j]]
            values = [jnp.asarray(v) for v in plan.run([*rows, *taps, *invariants], constants)]
            windows = tuple(jnp.concatenate([w[1:], values[j][None]]) for w, j in zip(windows, op.recurrent))
            return windows, values
        _, stacked = jax.lax.scan(body, tuple(jnp.asarray(w) for w in initials), tuple(sequences),
                                  length=int(n_steps))
        return stacked[0] if len(stacked) == 1 else stacked
    return run
