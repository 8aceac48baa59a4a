"""The theano backend's Scan: pytensor.scan of the step graph, lowered with this backend's kernels.

PyTensor's scan has Theano's conventions, which mlcore's Scan keeps: the step receives the
sequences' rows, then each recurrent output's taps, then the invariants; an output read only
at t-1 has its initial value without the window's leading dim.
"""
import pytensor
import pytensor.tensor as pt


def scan_kernel(op, node):
    """pytensor.scan of the step; a loop with until, whose length follows the values, runs the
    numpy kernel (the JAX linker, the GPU path, needs every length when it traces)."""
    if op.until:
        from backends.theano.reference import ReferenceOp
        return ReferenceOp(node)
    from backends.base import Plan
    from backends.theano.compiler import ConformingLowering
    from backends.theano.kernels import SPECIFY_SHAPE_LIFT
    plan = Plan(op.step.function_graph(), ConformingLowering())

    def run(n_steps, *inputs):
        sequences, initials, invariants = op.split(inputs)
        windows = iter(initials)
        outputs_info = [None if not taps else next(windows)[0] if taps == (-1,)
                        else dict(initial=next(windows), taps=list(taps)) for taps in op.taps]
        distinct = list({id(v): v for v in invariants}.values())   # pytensor.scan takes each once
        where = [[id(d) for d in distinct].index(id(v)) for v in invariants]

        def step(*args):
            per_step = list(args[:len(args) - len(distinct)])
            given = args[len(per_step):]
            outputs = plan.run(per_step + [given[k] for k in where],
                               [pt.constant(c.data, name=c.name) for c in plan.constants])
            return [pt.as_tensor_variable(v) for v in outputs]
        inner_mode = pytensor.compile.get_default_mode().excluding(SPECIFY_SHAPE_LIFT)    # see kernels.py
        stacked = pytensor.scan(step, sequences=sequences, outputs_info=outputs_info, non_sequences=distinct,
                                n_steps=n_steps, strict=True, return_list=True, return_updates=False,
                                mode=inner_mode)
        return stacked[0] if len(stacked) == 1 else stacked
    return run
