"""debugprint (Theano's text layout), min_informative_str, to_dot and pydotprint (Graphviz) for
graphs and compiled functions, and the Print op, which prints a value while a function runs."""
import os
import shutil
import string
import subprocess
import sys
import tempfile

import numpy as np

from mlcore.graph.basic import Apply, Constant, Op, SharedVariable, Variable, toposort
from mlcore.graph.ops.common import as_tensor_variable


def _ids():
    """A, B, ..., Z, BA, BB, ...: short ids as Theano prints them."""
    n = 0
    while True:
        k, s = n, ""
        while True:
            s = string.ascii_uppercase[k % 26] + s
            k //= 26
            if not k:
                break
        yield s
        n += 1


def _roots(obj):
    """The variables to print for a variable, a list of them, or a compiled Function."""
    from mlcore.function import Function
    if isinstance(obj, Function):
        return obj.fgraph.outputs, "Compiled for the %s backend (after rewrites):" % obj.backend.name
    if isinstance(obj, Variable):
        return [obj], None
    return list(obj), None


def debugprint(obj, file=None, print_type=False, depth=-1):
    """Print a graph, one line per variable, children indented under ' |' (as Theano does).

    A node already printed is shown again by its id only.  Returns the text; file="str"
    prints nothing (Theano's convention), else it goes to file or stdout.
    """
    roots, header = _roots(obj)
    ids, names = _ids(), {}
    lines = [header] if header else []

    def label(var):
        node = var.owner
        if node is None:
            if isinstance(var, Constant):
                text = repr(var)
            else:
                text = var.name or ("<%s>" % ("shared" if isinstance(var, SharedVariable) else var.type))
        else:
            text = str(node.op) + ("" if len(node.outputs) == 1 else ".%d" % var.index)
        key = id(node) if node is not None else id(var)
        seen = key in names
        if not seen:
            names[key] = next(ids)
        extra = " '%s'" % var.name if node is not None and var.name else ""
        typ = " %s" % var.type if print_type else ""
        return "%s [id %s]%s%s" % (text, names[key], extra, typ), seen

    def walk(var, prefix, child_prefix, level):
        text, seen = label(var)
        lines.append(prefix + text)
        if var.owner is None or seen or level == depth:
            return
        inputs = var.owner.inputs
        for k, inp in enumerate(inputs):
            last = k == len(inputs) - 1
            walk(inp, child_prefix + " |", child_prefix + ("  " if last else " |"), level + 1)

    for root in roots:
        walk(root, "", "", 0)
    text = "\n".join(lines)
    if file != "str":
        print(text, file=file or sys.stdout)
    return text


_INFIX = {"Add": "+", "Sub": "-", "Mul": "*", "TrueDiv": "/", "IntDiv": "//", "Mod": "%", "Pow": "**",
          "Eq": "==", "Neq": "!=", "Lt": "<", "Le": "<=", "Gt": ">", "Ge": ">=", "And": "&", "Or": "|"}


def pp(var):
    """One variable's graph as one infix expression (Theano's pp): ((x ** TensorConstant{2.0}) * y).
    Inputs print by name, constants as Theano prints them, other ops as op(args)."""
    node = var.owner
    if isinstance(var, Constant) and not var.name:
        return "TensorConstant{%r}" % (var.data.item(),) if var.data.ndim == 0 else "TensorConstant{%s}" % (var,)
    if node is None:
        return var.name or "<%s>" % (var.type,)
    args = [pp(i) for i in node.inputs]
    name = type(node.op).__name__
    if name in _INFIX and len(args) == 2:
        return "(%s %s %s)" % (args[0], _INFIX[name], args[1])
    if name == "Neg":
        return "-%s" % args[0]
    return "%s(%s)" % (node.op, ", ".join(args))


pprint = pp


def to_dot(obj):
    """Graphviz dot text: boxes for ops, ellipses for variables."""
    roots, _ = _roots(obj)
    out = ["digraph mlcore {", "  rankdir=BT;"]
    var_ids = {}

    def vid(var):
        if id(var) not in var_ids:
            var_ids[id(var)] = "v%d" % len(var_ids)
            shape = "box, style=dashed" if isinstance(var, Constant) else "ellipse"
            label = repr(var) if var.owner is None else str(var.type)
            out.append('  %s [label="%s", shape=%s];' % (var_ids[id(var)], label.replace('"', "'"), shape))
        return var_ids[id(var)]

    for k, node in enumerate(toposort(roots)):
        out.append('  n%d [label="%s", shape=box, style=filled, fillcolor=lightblue];'
                   % (k, str(node.op).replace('"', "'")))
        for inp in node.inputs:
            out.append("  %s -> n%d;" % (vid(inp), k))
        for o in node.outputs:
            out.append("  n%d -> %s;" % (k, vid(o)))
    out.append("}")
    return "\n".join(out)


def pydotprint(fct, outfile=None, compact=True, format="png", with_ids=False, high_contrast=True,
               cond_highlight=None, colorCodes=None, max_label_size=70, scan_graphs=False,
               var_with_name_simple=False, print_output_file=True, return_image=False):
    """Draw a graph or a compiled function as Theano's pydotprint does: to_dot's Graphviz text,
    rendered by Graphviz's dot program into outfile (default: mlcore.pydotprint.<format> in the
    temporary directory) in format ("png", "svg", "pdf", ...; "dot" writes the text itself, which
    needs no Graphviz).  return_image=True returns the rendered bytes instead of writing a file.
    The remaining arguments are accepted for Theano's signature."""
    text = to_dot(fct)
    if format == "dot":
        image = text.encode()
    else:
        program = shutil.which("dot")
        if program is None:
            raise RuntimeError("pydotprint: rendering format %r needs Graphviz's dot program, which is not on PATH; "
                               "install Graphviz, or pass format='dot' for the graph's dot text" % (format,))
        done = subprocess.run([program, "-T" + format], input=text.encode(), capture_output=True)
        if done.returncode:
            raise RuntimeError("pydotprint: Graphviz's dot failed to render format %r: %s"
                               % (format, done.stderr.decode(errors="replace").strip()))
        image = done.stdout
    if return_image:
        return image
    outfile = outfile or os.path.join(tempfile.gettempdir(), "mlcore.pydotprint." + format)
    with open(outfile, "wb") as f:
        f.write(image)
    if print_output_file:
        print("The output file is available at", outfile)


def min_informative_str(obj, indent_level=0, _prev_obs=None, _tag_generator=None):
    """The least of obj's graph that says what it is, as Theano's: one line per variable, tagged
    A., B., ...; a variable with a name (or a constant, or an input) stops the descent, an
    unnamed one shows its op with its inputs indented under it, and one seen before is <its tag>."""
    _prev_obs = {} if _prev_obs is None else _prev_obs
    _tag_generator = _ids() if _tag_generator is None else _tag_generator
    indent = " " * indent_level
    if id(obj) in _prev_obs:
        return indent + "<" + _prev_obs[id(obj)] + ">"
    tag = _prev_obs[id(obj)] = next(_tag_generator)
    if isinstance(obj, np.ndarray):
        name = "<ndarray>"
    elif getattr(obj, "name", None) is not None:
        name = obj.name
    elif getattr(obj, "owner", None) is not None:
        name = str(obj.owner.op) + "".join(
            "\n" + min_informative_str(i, indent_level + 1, _prev_obs, _tag_generator) for i in obj.owner.inputs)
    else:
        name = str(obj)
    return indent + tag + ". " + name


def _print_fn(op, value):
    """Theano's default: "message attr = value.attr" for each attr (called when it is a method)."""
    for attr in op.attrs:
        shown = getattr(value, attr)
        print(op.message, attr, "=", shown() if callable(shown) else shown)


class Print(Op):
    """x itself, with the side effect of printing message and x's attrs each time a function computes
    it (Theano's theano.printing.Print): `f = function([x], Print("x is")(x) * 5)` prints
    "x is __str__ = [1. 2. 3.]" when called.  Its perform runs on the host on every backend; its
    gradient passes through.  global_fn(op, value) replaces the printing."""

    __props__ = ("message", "attrs", "global_fn")
    foldable = False    # its effect is the printing: never computed while building or rewriting

    def __init__(self, message="", attrs=("__str__",), global_fn=_print_fn):
        self.message, self.attrs, self.global_fn = message, tuple(attrs), global_fn
        self.name = "Print"

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type])

    def perform(self, node, inputs, output_storage):
        self.global_fn(self, inputs[0])
        output_storage[0][0] = np.array(inputs[0])

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0])]

    def pullback(self, inputs, outputs, output_grads):
        return list(output_grads)
