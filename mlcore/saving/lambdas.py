"""Python lambdas in configs, as Keras saves them: the function's bytecode, marshalled and base64-encoded,
with the values of its default arguments and of the variables it closes over (plain values only, so that
they go into JSON).  Loading one runs code from the file: callers refuse it in safe mode."""
import base64
import marshal
import types

SAFE_MODE_REFUSAL = ("Requested the deserialization of a Python lambda. This carries a potential risk of arbitrary "
                     "code execution and thus it is disallowed by default. If you trust the source of the artifact, "
                     "you can override this error by passing `safe_mode=False` to the loading function, or calling "
                     "`keras.config.enable_unsafe_deserialization().")


def dump(function):
    """(code, defaults, closure) of a lambda, as Keras's func_dump gives them."""
    closure = None if function.__closure__ is None else [cell.cell_contents for cell in function.__closure__]
    defaults = None if function.__defaults__ is None else list(function.__defaults__)
    for value in (closure or []) + (defaults or []):
        if not _plain(value):
            raise ValueError("A lambda can be saved with plain values (numbers, strings, lists) in its closure "
                             "and defaults only; it holds %r (of type %s): use a named function, registered with "
                             "register_keras_serializable" % (value, type(value).__name__))
    return base64.b64encode(marshal.dumps(function.__code__)).decode("ascii"), defaults, closure


def load(code, defaults=None, closure=None, namespace=None):
    """The function dump() gave (Keras's base64 with line breaks reads too), its globals namespace."""
    return types.FunctionType(marshal.loads(base64.b64decode(code)), dict(namespace or {}), None,
                              None if defaults is None else tuple(defaults),
                              None if closure is None else tuple(types.CellType(v) for v in closure))


def _plain(value):
    """Whether value goes into a JSON config as it is."""
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return value is None or isinstance(value, (bool, int, float, str))
