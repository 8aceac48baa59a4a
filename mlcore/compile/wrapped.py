"""A compiled function with something around its calls (DebugMode's checks, sparse matrices in and
out); every other attribute is the wrapped Function's."""


class WrappedFunction:
    def __init__(self, function):
        self.function = function

    def __getattr__(self, name):
        if name == "function":        # not set yet (while unpickling): not the wrapped function's
            raise AttributeError(name)
        return getattr(self.function, name)
