"""debugprint (Theano's text layout), min_informative_str, to_dot and pydotprint (Graphviz) for
graphs and compiled functions, and the Print op, which prints a value while a function runs."""
import os
import shutil
import string
import subprocess
import sys
import tempfile

import numpy as np

from mlcore.graph.basic import Apply, Constant, Op, Variable, toposort
from mlcore.graph.ops.common import as_tensor_variable


pydot_imported = shutil.which("dot") is not None      # Theano's flag: whether pydotprint can render images


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
    """The variables to print for a variable, an Apply, a list of them, a FunctionGraph or a
    compiled Function, and the toposort whose positions Theano prints after a compiled node."""
    from mlcore.function import Function
    from mlcore.graph.fgraph import FunctionGraph
    if isinstance(obj, Function):
        obj = obj.fgraph
    if isinstance(obj, FunctionGraph):
        return list(obj.outputs), obj.toposort()
    if isinstance(obj, Variable):
        return [obj], []
    if isinstance(obj, Apply):
        return list(obj.outputs), []
    if isinstance(obj, (list, tuple)):
        return list(obj), []
    raise TypeError("debugprint cannot print an object of type %s: give a variable, an Apply, a list "
                    "of variables, a FunctionGraph or a compiled function" % type(obj).__name__)


_NAMED_PATTERNS = {(): "scalar", (False,): "vector", (False, True): "col", (True, False): "row",
                   (False, False): "matrix"}


def type_str(var_type):
    """A tensor type as Theano prints it: TensorType(float64, vector), ..., (False, True, False)
    where a dim is known to be 1 (broadcastable), else 3D, 4D, ..."""
    shape = getattr(var_type, "shape", None)
    if shape is None or not hasattr(var_type, "dtype"):
        return str(var_type)
    pattern = tuple(s == 1 for s in shape)
    kind = _NAMED_PATTERNS.get(pattern) or (str(pattern) if any(pattern) else "%dD" % len(pattern))
    return "TensorType(%s, %s)" % (var_type.dtype, kind)


def leaf_str(var):
    """A graph input as Theano prints it: its name, TensorConstant{value}, or <its type>."""
    if isinstance(var, Constant) and not var.name:
        data = np.asarray(var.data)
        return "TensorConstant{%r}" % (data.item(),) if data.ndim == 0 else "TensorConstant{%s}" % (var,)
    return var.name or "<%s>" % type_str(var.type)


def op_str(op):
    """An op as Theano's printing names it: an elementwise op as Elemwise{add,no_inplace} or
    Elemwise{Cast{float64}}, other ops by their own str."""
    from mlcore.graph.ops.elemwise import Elemwise
    text = str(op)
    if not isinstance(op, Elemwise):
        return text
    return "Elemwise{%s,no_inplace}" % text if text == op.name else "Elemwise{%s}" % text


class _Ids:
    """debugprint's ids, one per Apply node or graph input: "CHAR" (A, B, ..., Z, BA, ...),
    "int" (0, 1, ...), "id" (Python's id) or "" (none); shared with an outer call through done."""

    def __init__(self, kind, done):
        if kind not in ("CHAR", "int", "id", ""):
            raise ValueError("debugprint: ids must be 'CHAR', 'int', 'id' or '', got %r" % (kind,))
        self.kind, self.done, self.chars = kind, done, _ids()

    def seen(self, key):
        return key in self.done

    def of(self, key, obj):
        if key not in self.done:
            label = {"CHAR": lambda: next(self.chars), "int": lambda: str(len(self.done)),
                     "id": lambda: str(id(obj)), "": lambda: None}[self.kind]()
            self.done[key] = "" if label is None else "[id %s]" % label
        return self.done[key]


def debugprint(obj, depth=-1, print_type=False, file=None, ids="CHAR", stop_on_name=False, done=None,
               print_storage=False, print_clients=False, used_ids=None):
    """Print a graph as Theano's debugprint: one line per variable, its inputs indented under
    it with " |".  An op's line is "op [id A] 'name'   " (the name empty when it has none; for
    a compiled function, or a FunctionGraph, its position in the toposort at the end); an input's
    "name [id B]".  A node printed before shows its line again, not its inputs.  depth limits
    the levels printed; print_type adds each variable's type; ids picks the identifiers;
    stop_on_name prints nothing below a named variable; done (a dict) shares the ids between
    calls.  The step graphs of the scans printed follow, under "Inner graphs of the scan ops:",
    each line prefixed with " >", and a step input taken from outside names its outer node
    ("-> [id E]").  print_storage, print_clients and used_ids are accepted for Theano's
    signature.  file: None prints to stdout, "str" returns the text, a file object is written
    to and returned."""
    roots, order = _roots(obj)
    printer = _GraphPrinter(_Ids(ids, {} if done is None else done), print_type, stop_on_name, order)
    for root in roots:
        printer.variable(root, "", "", depth)
    printer.inner_graphs()
    text = "\n".join(printer.lines) + "\n"
    if file == "str":
        return text
    (sys.stdout if file is None else file).write(text)
    return file


class _GraphPrinter:
    """debugprint's walk: the settings every line shares, the lines written so far and the Scan nodes
    met (their step graphs are printed after the outer graph)."""

    def __init__(self, labels, print_type, stop_on_name, order):
        self.labels, self.print_type, self.stop_on_name = labels, print_type, stop_on_name
        self.positions = {id(node): k for k, node in enumerate(order)}    # a compiled node's place in the run
        self.lines, self.scans = [], []

    def variable(self, var, prefix, child_prefix, depth, outer=None):
        """Append var's line and (once per node, depth permitting) its inputs' lines.  outer maps a
        scan's step inputs to their outer variables."""
        from mlcore.graph.ops.scan import Scan
        if depth == 0:
            return
        labels = self.labels
        typ = " <%s>" % type_str(var.type) if self.print_type else ""
        node = var.owner
        if node is None:
            link = " -> %s" % labels.of(id(outer[id(var)].owner or outer[id(var)]), outer[id(var)]) \
                if outer and id(var) in outer else ""
            self.lines.append("%s%s %s%s%s" % (prefix, leaf_str(var), labels.of(id(var), var), typ, link))
            return
        seen = labels.seen(id(node))
        suffix = "" if len(node.outputs) == 1 else ".%d" % node.outputs.index(var)
        position = str(self.positions.get(id(node), ""))
        self.lines.append("%s%s%s %s%s '%s'   %s" % (prefix, op_str(node.op), suffix, labels.of(id(node), node),
                                                     typ, var.name or "", position))
        if seen or (self.stop_on_name and var.name is not None):
            return
        if isinstance(node.op, Scan):
            self.scans.append(node)
        for k, inp in enumerate(node.inputs):
            last = k == len(node.inputs) - 1
            self.variable(inp, child_prefix + " |", child_prefix + ("  " if last else " |"), depth - 1, outer)

    def inner_graphs(self):
        """The step graph of each scan printed (and of the scans inside those), as Theano's section;
        the step graphs' nodes have no place in the outer run, so no position."""
        if not self.scans:
            return
        self.lines += ["", "Inner graphs of the scan ops:"]
        self.positions = {}
        for node in self.scans:      # grows while it runs: a step graph may hold scans of its own
            self.lines += ["", "%s %s ''" % (op_str(node.op), self.labels.of(id(node), node))]
            outer = _outer_of_step_inputs(node)
            for out in node.op.step.outputs:
                self.variable(out, " >", " >", -1, outer)


def _outer_of_step_inputs(node):
    """{id of a step input: the outer variable it reads}: a sequence's rows, a recurrent output's
    initial values (for each of its taps), or an invariant."""
    op = node.op
    sequences, initials, invariants = op.split(node.inputs[1:])
    outer = sequences + [initials[k] for k, j in enumerate(op.recurrent) for _ in op.taps[j]] + invariants
    return {id(inner): value for inner, value in zip(op.step.inputs, outer)}


_INFIX = {"Add": "+", "Sub": "-", "Mul": "*", "TrueDiv": "/", "IntDiv": "//", "Mod": "%", "Pow": "**",
          "Eq": "==", "Neq": "!=", "Lt": "<", "Le": "<=", "Gt": ">", "Ge": ">=", "And": "&", "Or": "|"}


def pp(var):
    """One variable's graph as one infix expression (Theano's pp): ((x ** TensorConstant{2.0}) * y).
    Inputs print by name, constants as Theano prints them, other ops as op(args)."""
    node = var.owner
    if node is None:
        return leaf_str(var)
    args = [pp(i) for i in node.inputs]
    name = type(node.op).__name__
    if name == "Subtensor":
        return _subtensor_str(node.op.spec, args)
    if name in _INFIX and len(args) == 2:
        return "(%s %s %s)" % (args[0], _INFIX[name], args[1])
    if name == "Neg":
        return "-%s" % args[0]
    return "%s(%s)" % (node.op, ", ".join(args))


pprint = pp


def _subtensor_str(spec, args):
    """x[Constant{1}], x[i], x[1:3], x[::2] as Theano's pp writes an index (args: the printed
    inputs, the array first; a ("$", k) entry of spec is input k)."""
    def part(entry, bare):
        if isinstance(entry, tuple) and entry[0] == "$":
            return args[entry[1]]
        if entry is None:
            return ""
        return str(entry) if bare else "Constant{%s}" % (entry,)

    def index(entry):
        if isinstance(entry, tuple) and entry[0] == "slice":
            start, stop, step = (part(e, True) for e in entry[1:])
            return "%s:%s%s" % ("" if start == "0" else start, stop, ":" + step if step else "")
        return part(entry, False)
    return "%s[%s]" % (args[0], ", ".join(index(e) for e in spec))


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
        name = op_str(obj.owner.op) + "".join(
            "\n" + min_informative_str(i, indent_level + 1, _prev_obs, _tag_generator) for i in obj.owner.inputs)
    else:
        name = leaf_str(obj) if isinstance(obj, Variable) else str(obj)
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
