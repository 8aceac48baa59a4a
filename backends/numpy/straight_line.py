"""A Plan written out as one straight-line Python function, the numpy backend's compiled form.

Plan.run interprets its steps: per node it builds an argument list, unpacks a step
tuple, checks the result's dtype and stores it in a list of slots, about 1.5 us
that a small graph pays per node (the 32x32 convnet's training step has 74 nodes,
a tenth of its time at batch 1).  Written out, each node is one line calling its
kernel on local variables, which Python runs at the speed of ordinary code:

    def run(v0, v1, v2):
        v3 = k0(v0, v2)
        if type(v3) is not ndarray or v3.dtype is not d0: v3 = coerce(v3, d0)
        del v2
        ...
        return [v9]

`k<i>` and `d<i>` are the step's kernel and result dtype, `v<slot>` the plan's value
slots (the inputs, then each node's outputs), `c<slot>` its constants, and `del`
drops a value after its last use, as Plan.run does.  The function's text is kept as its
`source`, for reading.
"""
import numpy as np

from backends.base import as_array_of


def straight_line(plan, constant_values):
    """plan (a Plan with coerce_results) as a function of its inputs, its constants bound."""
    constant_slots = range(plan.n_inputs, plan.n_inputs + len(constant_values))
    names = {"ndarray": np.ndarray, "coerce": as_array_of}
    names.update((f"c{slot}", value) for slot, value in zip(constant_slots, constant_values))

    def name(slot):
        return f"c{slot}" if slot in constant_slots else f"v{slot}"

    def names_of(slots):
        return ", ".join(map(name, slots))
    lines = []
    for k, ((kernel, ins, outs, _), dead, dtypes) in enumerate(zip(plan.steps, plan.free_after, plan.result_dtypes)):
        names[f"k{k}"] = kernel
        call = f"k{k}({names_of(ins)})"
        if len(outs) == 1:
            out = name(outs[0])
            names[f"d{k}"] = dtypes[0]
            lines += [f"{out} = {call}",
                      f"if type({out}) is not ndarray or {out}.dtype is not d{k}: {out} = coerce({out}, d{k})"]
        else:
            lines.append(f"{names_of(outs)}, = {call}")
            for position, (slot, dtype) in enumerate(zip(outs, dtypes)):
                names[f"d{k}_{position}"] = dtype
                lines.append(f"{name(slot)} = coerce({name(slot)}, d{k}_{position})")
        dead = [s for s in dead if s not in constant_slots]   # constants stay bound
        if dead:
            lines.append(f"del {names_of(dead)}")
    lines.append(f"return [{names_of(plan.output_slots)}]")
    source = f"def run({names_of(range(plan.n_inputs))}):\n" + "".join(f"    {line}\n" for line in lines)
    exec(compile(source, "<numpy plan>", "exec"), names)
    run = names["run"]
    run.source = source
    return run
