"""Per-op timing of compiled functions, printed as Theano's profiler prints it."""
import atexit
import sys
import time
from collections import defaultdict


class Profile:
    """Collects call counts and time per Apply node and per Op class."""

    def __init__(self, name, backend):
        self.name = name
        self.backend = backend
        self.calls = 0
        self.total = 0.0
        self.node_time = defaultdict(float)
        self.node_calls = defaultdict(int)
        self.labels = {}
        self.block = None            # set by backends whose kernels return before finishing (jax)
        self.extra = None            # a backend's own profiler report (PyTensor's), if any
        self.reported = False
        atexit.register(self._print_at_exit)

    def timer(self, node, kernel, args):
        start = time.perf_counter()
        result = kernel(*args)
        if self.block is not None:
            result = self.block(result)
        self.node_time[id(node)] += time.perf_counter() - start
        self.node_calls[id(node)] += 1
        self.labels.setdefault(id(node), (type(node.op).__name__, str(node)))
        return result

    def summary(self, file=None, n=20):
        """The report: function totals, time per Op class, then the slowest Apply nodes."""
        lines = ["Function profiling", "==================",
                 "  Message: %s (backend %s)" % (self.name, self.backend),
                 "  Time in %d calls to Function.__call__: %.6fs" % (self.calls, self.total)]
        if self.calls:
            lines.append("  Time per call: %.6fs" % (self.total / self.calls))
        per_class = defaultdict(lambda: [0.0, 0, 0])
        for key, t in self.node_time.items():
            entry = per_class[self.labels[key][0]]
            entry[0] += t
            entry[1] += self.node_calls[key]
            entry[2] += 1
        op_total = sum(self.node_time.values()) or 1.0
        if per_class:
            lines += ["", "Class", "---", "<% time> <sum %> <apply time> <time per call> <#call> <#apply> <Class name>"]
            acc = 0.0
            for cls, (t, calls, applies) in sorted(per_class.items(), key=lambda kv: -kv[1][0]):
                acc += t
                lines.append("  %5.1f%%   %5.1f%%   %9.6fs   %9.3es   %6d   %4d   %s"
                             % (100 * t / op_total, 100 * acc / op_total, t, t / max(calls, 1), calls, applies, cls))
            lines += ["", "Apply", "---", "<% time> <sum %> <apply time> <time per call> <#call> <Apply name>"]
            acc = 0.0
            for key, t in sorted(self.node_time.items(), key=lambda kv: -kv[1])[:n]:
                acc += t
                calls = self.node_calls[key]
                lines.append("  %5.1f%%   %5.1f%%   %9.6fs   %9.3es   %6d   %s"
                             % (100 * t / op_total, 100 * acc / op_total, t, t / max(calls, 1), calls,
                                self.labels[key][1][:100]))
        if self.extra:
            lines += ["", self.extra()]
        text = "\n".join(lines)
        self.reported = True
        if file is not None:
            print(text, file=file)
        return text

    def _print_at_exit(self):
        """Theano printed a profiled function's table at exit; skipped if summary() was already used."""
        if self.calls and not self.reported and getattr(self, "atexit_print", True):
            print(self.summary())


class ProfileStats(Profile):
    """Theano's theano.compile.ProfileStats, made by the user and given as function(..., profile=):
    several functions may share one, adding up their calls and times.  message= names it in the
    report; atexit_print=False keeps it from printing at exit.  flag_time_thunks and gpu_checks are
    accepted for Theano's signature."""

    def __init__(self, atexit_print=True, flag_time_thunks=None, gpu_checks=True, message=None, **kwargs):
        super().__init__(message or "ProfileStats", "the functions' own")
        self.atexit_print = atexit_print
        for name, value in kwargs.items():
            setattr(self, name, value)

    @property
    def fct_callcount(self):
        """How many times the functions were called (Theano's name)."""
        return self.calls

    @property
    def fct_call_time(self):
        """Seconds spent in those calls (Theano's name)."""
        return self.total

    def summary(self, file=sys.stderr, n_ops_to_print=20, n_apply_to_print=20):
        """The report, printed to file (Theano's default: stderr) and returned."""
        return super().summary(file, n_apply_to_print)
