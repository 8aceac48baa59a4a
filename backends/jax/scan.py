"""The jax backend's Scan: jax.lax.scan of the step graph, traced with this backend's kernels.

The carry holds, per recurrent output, the window of its last values (oldest first); the
number of steps must be known when jax traces, as every shape is (a static jit argument
where it comes from an input, see concrete_inputs).
"""
import jax
import jax.numpy as jnp


def scan_kernel(op, node):
    if op.until:
        return _refuse_until
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


def while_kernel(op, node):
    """jax.lax.while_loop of the cond and body graphs, with a step count where the loop has a limit."""
    from backends.base import Plan
    from backends.jax.compiler import ConcreteFirst
    cond, body = (Plan(graph.function_graph(), ConcreteFirst()) for graph in (op.cond, op.body))
    cond_constants, body_constants = ([c.data for c in plan.constants] for plan in (cond, body))
    dtypes = [o.dtype for o in node.outputs]
    limit = op.maximum_iterations

    def run(*inputs):
        values, cond_free, body_free = op.split(inputs)

        def holds(carry):
            steps, values = carry
            going = jnp.asarray(cond.run([*values, *cond_free], cond_constants)[0]).astype(bool)
            return going if limit is None else going & (steps < limit)

        def step(carry):
            steps, values = carry
            new = body.run([*values, *body_free], body_constants)
            return steps + 1, tuple(jnp.asarray(v).astype(d) for v, d in zip(new, dtypes))
        _, values = jax.lax.while_loop(holds, step, (0, tuple(jnp.asarray(v).astype(d)
                                                              for v, d in zip(values, dtypes))))
        return values[0] if len(values) == 1 else list(values)
    return run


def _refuse_until(*traced):
    """A loop with until runs on the host from static inputs (concrete_inputs); traced, inside another
    traced loop, its number of steps cannot be known."""
    raise ValueError("scan with until: the number of steps is known only from the values, which jax traces "
                     "without here (inside another scan loop); use the numpy or theano backend")
