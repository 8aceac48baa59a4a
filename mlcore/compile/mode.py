"""Theano's Mode: how theano.function compiles a graph; here, which of mlcore's rewrite passes run.

    fn = theano.function([x], y, mode=Mode(optimizer=None))                # the graph as written
    fn = theano.function([x], y, mode=Mode().excluding("fusion"))          # every pass but fusion

optimizer: "fast_run" (also Theano's "o1".."o4", "merge" for merging only), "fast_compile", None
for no rewriting, or "default": config.optimizer, Theano's flag (itself "fast_run" unless set).
including/excluding take pass names (mlcore.graph.rewrite.PASSES); as in Theano, a name that
matches no pass selects nothing.  The linker picks the backend where function() is given none:
Theano's "py" (each op's Python code) runs on the numpy backend, "c", "c|py", "cvm", "vm" and
their _nogc forms on the theano backend (PyTensor's C linker), PyTensor's "jax" on the jax backend;
None leaves it to mlcore.config.

    fn = theano.function([x], y, mode=Mode(linker="py"))       # the numpy reference backend
    fn = theano.function([x], y, mode="JAX")                    # PyTensor's name: the jax backend
"""
import copy

from mlcore import config
from mlcore.graph.rewrite import PASSES, pass_names

OPTIMIZERS = {"fast_run": "fast_run", "default": "fast_run", "o1": "fast_run", "o2": "fast_run",
              "o3": "fast_run", "o4": "fast_run", "fast_compile": "fast_compile", "none": "none",
              "merge": ["merge"]}


LINKER_BACKENDS = {"py": "numpy", "c": "theano", "c|py": "theano", "c|py_nogc": "theano", "cvm": "theano",
                   "vm": "theano", "cvm_nogc": "theano", "vm_nogc": "theano", "jax": "jax"}


def _linker_backend(linker):
    """The backend a Theano/PyTensor linker (a name, or a linker object such as PyTensor's
    JAXLinker()) stands for; None for none given."""
    if linker is None:
        return None
    name = linker if isinstance(linker, str) else type(linker).__name__.lower().replace("linker", "")
    name = {"perform": "py", "opwisec": "c|py", "wrap": "vm"}.get(name, name)
    if name.lower() not in LINKER_BACKENDS:
        raise ValueError("Mode: unknown linker %r; known: None, %s" % (linker, ", ".join(LINKER_BACKENDS)))
    return LINKER_BACKENDS[name.lower()]


THEANO_PASS_NAMES = {"local_elemwise_fusion": "fusion", "elemwise_fusion": "fusion"}


def _pass_names(names):
    """mlcore's pass names for names given as Theano's rewrites' (local_elemwise_fusion is fusion)."""
    return [THEANO_PASS_NAMES.get(n, n) for n in names]


class Mode:
    watches_nodes = False    # True for MonitorMode and NanGuardMode (mlcore.compile.monitormode)

    def __init__(self, linker=None, optimizer="default"):
        key = "none" if optimizer is None else str(optimizer).lower()
        if key == "default":
            key = str(config.optimizer).lower()
        if key not in OPTIMIZERS:
            raise ValueError("Mode: unknown optimizer %r; known: None, %s" % (optimizer, ", ".join(OPTIMIZERS)))
        self.linker, self.optimizer = linker, optimizer
        self.backend = _linker_backend(linker)
        self.rewrites = pass_names(OPTIMIZERS[key])

    def attach(self, fn):
        """The function that function() returns for this mode, given the compiled one."""
        return fn

    def including(self, *names):
        """This mode with the passes named added at the end (each once)."""
        names = _pass_names(names)
        return self._with([*self.rewrites, *(n for n in names if n in PASSES and n not in self.rewrites)])

    def excluding(self, *names):
        """This mode without the passes named."""
        names = _pass_names(names)
        return self._with([n for n in self.rewrites if n not in names])

    def requiring(self, *names):
        """This mode with only the passes named kept (a name of a set of passes, such as
        "fast_run", keeps those of the set), as Theano's requiring keeps the rewrites so tagged."""
        wanted = {n for name in names
                  for n in (pass_names(OPTIMIZERS[name]) if name in OPTIMIZERS else _pass_names([name]))}
        return self._with([n for n in self.rewrites if n in wanted])

    def _with(self, rewrites):
        mode = copy.copy(self)      # a MonitorMode stays one, with its callbacks
        mode.rewrites = rewrites
        return mode

    def __repr__(self):
        return "Mode(linker=%r, optimizer=%r, rewrites=%s)" % (self.linker, self.optimizer, self.rewrites)


FAST_RUN, FAST_COMPILE = Mode(optimizer="fast_run"), Mode(optimizer="fast_compile")


def get_mode(mode):
    """The Mode for Theano's name of one ("FAST_RUN", "FAST_COMPILE", "DebugMode", "NanGuardMode",
    "Mode": the default rewrites of config.optimizer; PyTensor's "JAX" and "C" linker modes), a Mode
    as it is, None for get_default_mode()."""
    if mode is None:
        return get_default_mode()
    if isinstance(mode, Mode):
        return mode
    key = str(mode).lower()
    if key in ("debugmode", "debug_mode"):
        from mlcore.compile.debugmode import DebugMode
        return DebugMode()
    if key == "nanguardmode":
        from mlcore.compile.nanguardmode import NanGuardMode
        return NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True)
    named = {"mode": Mode, "fast_run": lambda: Mode(optimizer="fast_run"),        # anew: optdb may have grown
             "fast_compile": lambda: Mode(optimizer="fast_compile"),
             "jax": lambda: Mode(linker="jax"), "c": lambda: Mode(linker="c")}
    if key not in named:
        raise ValueError("unknown mode %r; known: 'Mode', 'FAST_RUN', 'FAST_COMPILE', 'DebugMode', "
                         "'NanGuardMode', 'JAX', 'C', or a Mode" % (mode,))
    return named[key]()


def get_default_mode():
    """The mode of a function() given none: config.mode, Theano's flag ("Mode" unless set)."""
    return get_mode(config.mode)
