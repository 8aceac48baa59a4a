"""Global settings: float type, epsilon, image layout, default backend and device.

Values come, in order of precedence, from set_*() calls, the MLCORE_* environment
variables, the config file ($MLCORE_HOME/mlcore.json, default ~/.mlcore/mlcore.json,
written with defaults on first use, as Keras writes ~/.keras/keras.json), and the
defaults below.  An explicit backend=/device= argument to mlcore.function beats all.
"""
import contextlib
import json
import os
import sys
import types

_DEFAULTS = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last",
             "backend": "auto", "device": "cpu"}
_overrides = {}
_file_settings = None


def home():
    """The directory for mlcore's config file, caches and downloads."""
    return os.path.expanduser(os.environ.get("MLCORE_HOME", os.path.join("~", ".mlcore")))


def config_path():
    return os.path.join(home(), "mlcore.json")


def _from_file():
    """Read the config file once; create it with the defaults when missing."""
    global _file_settings
    if _file_settings is None:
        path = config_path()
        try:
            with open(path) as f:
                _file_settings = json.load(f)
        except FileNotFoundError:
            _file_settings = {k: _DEFAULTS[k] for k in ("floatx", "epsilon", "image_data_format", "backend")}
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                tmp = path + ".tmp%d" % os.getpid()
                with open(tmp, "w") as f:
                    json.dump(_file_settings, f, indent=4)
                os.replace(tmp, path)
            except OSError:
                pass  # a read-only home still works with the defaults
        except (OSError, ValueError):
            _file_settings = {}
    return _file_settings


def _get(key):
    if key in _overrides:
        return _overrides[key]
    env = os.environ.get("MLCORE_" + key.upper())
    if env:
        return type(_DEFAULTS[key])(env)
    return _from_file().get(key, _DEFAULTS[key])


def reload():
    """Forget cached file settings and overrides (tests and long sessions)."""
    global _file_settings
    _file_settings = None
    _overrides.clear()


def floatx():
    return _get("floatx")


def set_floatx(value):
    if value not in ("float16", "float32", "float64"):
        raise ValueError("Unknown floatx %r: expected 'float16', 'float32' or 'float64'" % (value,))
    _overrides["floatx"] = value


def epsilon():
    return float(_get("epsilon"))


def set_epsilon(value):
    _overrides["epsilon"] = float(value)


def image_data_format():
    return _get("image_data_format")


def set_image_data_format(data_format):
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("Unknown image_data_format %r: expected 'channels_last' or 'channels_first'" % (data_format,))
    _overrides["image_data_format"] = data_format


def backend():
    """The name of the default backend, with "auto" resolved (jax if installed, else numpy)."""
    from backends import resolve_name
    return resolve_name(_get("backend"))


def set_backend(backend):
    from backends import resolve_name
    _overrides["backend"] = resolve_name(backend)


def device():
    return _get("device")


def set_device(name):
    _overrides["device"] = name


@contextlib.contextmanager
def device_scope(name):
    """Functions compiled in the block run on device `name` ("cpu" or "gpu"); the setting before the
    block (an override, or the file's and environment's) comes back after it, even on an error."""
    saved = _overrides.get("device", _MISSING)
    _overrides["device"] = name
    try:
        yield
    finally:
        if saved is _MISSING:
            del _overrides["device"]
        else:
            _overrides["device"] = saved


class change_flags(contextlib.ContextDecorator):  # noqa: N801  (Theano's name)
    """with change_flags(floatX="float64"): ... or @change_flags(floatX="float64"): settings changed
    for a block or a function and restored after, even on an error (theano.config.change_flags).
    floatX is floatx(); other names are kept as attributes of this module, as Theano code reads
    them (config.compute_test_value, ...)."""

    def __init__(self, args=(), **kwargs):
        self.changes = dict(args, **kwargs)

    def __enter__(self):
        self.saved = {name: getattr(*_holder(name), _MISSING) for name in self.changes}
        for name, value in self.changes.items():
            setattr(*_holder(name), value)
        return self

    def __exit__(self, *exc_info):
        for name, value in self.saved.items():
            if value is _MISSING:
                delattr(*_holder(name))
            else:
                setattr(*_holder(name), value)
        return False


def _holder(name):
    """(object, attribute) of a flag's name: this module's, or a section's ("warn.round")."""
    holder = sys.modules[__name__]
    *sections, attribute = name.replace("__", ".").split(".")
    for section in sections:
        holder = getattr(holder, section)
    return holder, attribute


_MISSING = object()

# Theano's flags that Theano code reads and sets (theano.config.mode = "FAST_COMPILE", change_flags(
# optimizer="None")), with Theano's defaults: the mode of a function() given none (compile/mode.py
# get_default_mode), the rewrites of Mode(optimizer="default"), the detail of error messages, profiling.
mode = "Mode"
optimizer = "fast_run"
exception_verbosity = "low"
profile = False          # True: every function is profiled, and the profiles are printed at exit
on_unused_input = "raise"     # what function(on_unused_input=None) does with an input it does not need
# Theano's flags that tutorials print or set and that change nothing here (mlcore frees nothing between
# calls to reuse, warns of no float64, and compiles C through PyTensor, whose own flags set its compiler).
allow_gc = True
warn_float64 = "ignore"
openmp = False
# Theano's warn.* flags, warnings about bugs of old Theano versions (rnnrbm.py sets
# theano.config.warn.subtensor_merge_bug = False); off, as in Theano 1.0 for bugs fixed before 0.9.
warn = types.SimpleNamespace(ignore_bug_before="0.9", argmax_pushdown_bug=False, gpusum_01_011_0111_bug=False,
                             sum_sum_bug=False, sum_div_dimshuffle_bug=False, subtensor_merge_bug=False,
                             gpu_set_subtensor1=False, vm_gc_bug=False, signal_conv2d_interface=False,
                             reduce_join=False, inc_set_subtensor1=False, round=False)
# Theano's conv.assert_shape: conv2d/conv3d check the input_shape= and filter_shape= they are given
# against the arrays when run (off, as in Theano: the shapes are hints).
conv = types.SimpleNamespace(assert_shape=False)


class _Setting(str):
    """A setting read both ways: config.device() as mlcore's setters and getters go, config.device as
    Theano's flag, a string ("cpu", "gpu")."""

    def __call__(self):
        return str(self)


def _device_name(name):
    """mlcore's name of a device given as Theano's ("cuda", "cuda0", "gpu1" are the GPU)."""
    return "gpu" if str(name).startswith(("cuda", "gpu")) else str(name)


class _ConfigModule(type(os)):
    """theano.config.floatX, read and assigned as Theano code does, is floatx()/set_floatx();
    theano.config.device is device()/set_device()."""

    floatX = property(lambda self: floatx(), lambda self, value: set_floatx(value))
    device = property(lambda self: _Setting(device()), lambda self, value: set_device(_device_name(value)))


sys.modules[__name__].__class__ = _ConfigModule


# --- Keras 3's debugging caps and logging switch (keras.config.*) -----------------------------------
def set_max_epochs(max_epochs):
    """Cap the epochs of every fit() (None: no cap), for a quick debugging run; MLCORE_MAX_EPOCHS or
    KERAS_MAX_EPOCHS in the environment set it too."""
    _overrides["max_epochs"] = max_epochs


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Cap the batches of each epoch of fit(), and of evaluate() and predict() (None: no cap);
    MLCORE_MAX_STEPS_PER_EPOCH or KERAS_MAX_STEPS_PER_EPOCH in the environment set it too."""
    _overrides["max_steps_per_epoch"] = max_steps_per_epoch


def _cap(key):
    if key in _overrides:
        return _overrides[key]
    env = os.environ.get("MLCORE_" + key.upper()) or os.environ.get("KERAS_" + key.upper())
    return int(env) if env else None


def max_epochs():
    """The cap set_max_epochs set, or None."""
    return _cap("max_epochs")


def max_steps_per_epoch():
    """The cap set_max_steps_per_epoch set, or None."""
    return _cap("max_steps_per_epoch")


def enable_interactive_logging():
    """Progress bars and messages go to stdout (the default)."""
    _overrides["interactive_logging"] = True


def disable_interactive_logging():
    """Progress bars and messages go to the "mlcore" logger at INFO level instead of stdout, for
    jobs whose output is a log file (Keras sends them to absl.logging)."""
    _overrides["interactive_logging"] = False


def is_interactive_logging_enabled():
    return _overrides.get("interactive_logging", True)


def dtype_policy():
    """The global DTypePolicy, which layers made without dtype= take (mlcore.dtype_policies)."""
    from mlcore import dtype_policies
    return dtype_policies.dtype_policy()


def set_dtype_policy(policy):
    from mlcore import dtype_policies
    dtype_policies.set_dtype_policy(policy)


def enable_unsafe_deserialization():
    """From now on, load_model and deserialize_keras_object run the code saved with Lambda layers
    whatever their safe_mode argument says, as keras.config's switch does."""
    _overrides["unsafe_deserialization"] = True


def effective_safe_mode(safe_mode):
    """The safe_mode a loader applies: the one it was given, unless unsafe deserialization is on."""
    return bool(safe_mode) and not _overrides.get("unsafe_deserialization", False)


# --- Keras 3's feature switches that mlcore has one path for ----------------------------------------
def enable_flash_attention():
    """Let attention layers try a flash-attention kernel (Keras's default state, "auto": None).
    mlcore's dot_product_attention has one path, the plain softmax(q.k).v graph, and no flash kernel,
    so this switch is recorded only: is_flash_attention_enabled() reports it and nothing else changes."""
    _overrides["flash_attention"] = None


def disable_flash_attention():
    """Keep attention layers off flash kernels (recorded only: mlcore's attention has one path)."""
    _overrides["flash_attention"] = False


def is_flash_attention_enabled():
    """False once disabled, else None (Keras's "use it where the inputs allow")."""
    return _overrides.get("flash_attention")


def enable_traceback_filtering():
    """Keras drops its own frames from the tracebacks of the errors it raises.  mlcore keeps every
    frame (its errors name the layer, argument or shape at fault instead), so this switch is recorded
    only, for code that reads is_traceback_filtering_enabled()."""
    _overrides["traceback_filtering"] = True


def disable_traceback_filtering():
    """Record that full tracebacks are wanted (mlcore's tracebacks are always full)."""
    _overrides["traceback_filtering"] = False


def is_traceback_filtering_enabled():
    """The recorded switch; True by default, as in Keras."""
    return _overrides.get("traceback_filtering", True)


def is_nnx_enabled():
    """Always False: mlcore's jax backend keeps its variables itself and has no Flax NNX mode (Keras's
    is off unless KERAS_NNX_ENABLED is set)."""
    return False
