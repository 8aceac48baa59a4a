"""keras.utils.Config: a dict of named settings that also reads and writes them as attributes, can be frozen
against accidental changes, and serializes to JSON."""
import copy
import difflib
import json

_OWN = ("_config", "_frozen")     # the attributes a Config keeps on itself; every other name is an entry


class Config:
    """Settings by name: config.seed = 1 and config["seed"] = 1 are the same entry.  Once freeze() is called,
    setting, updating, popping or deleting an entry raises ValueError until unfreeze().  Iterating gives the
    names in sorted order; as_dict() a copy of the entries, to_json() their JSON."""

    def __init__(self, **kwargs):
        object.__setattr__(self, "_config", kwargs)
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self):
        """Whether the config refuses changes."""
        return self._frozen

    def freeze(self):
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self):
        object.__setattr__(self, "_frozen", False)

    def _raise_if_frozen(self):
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    def as_dict(self):
        return copy.copy(self._config)

    def to_json(self):
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def get(self, keyname, value=None):
        return self._config.get(keyname, value)

    def pop(self, *args):
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._raise_if_frozen()
        return self._config.update(*args, **kwargs)

    def __setattr__(self, name, value):
        if name in _OWN or hasattr(type(self), name):       # the class's own names stay attributes
            return object.__setattr__(self, name, value)
        self[name] = value

    def __getattr__(self, name):      # only called for names that are not attributes: the entries
        if name in _OWN:
            raise AttributeError(name)     # not yet set (while unpickling): no entries to look in
        if name in self._config:
            return self._config[name]
        message = "Unknown attribute: '%s'." % name
        close = difflib.get_close_matches(name, list(self._config), n=1, cutoff=0.7)
        if close:
            message += " Did you mean '%s'?" % close[0]
        raise AttributeError(message)

    def __setitem__(self, key, item):
        self._raise_if_frozen()
        self._config[key] = item

    def __getitem__(self, key):
        return self._config[key]

    def __delitem__(self, key):
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, item):
        return item in self._config

    def __iter__(self):
        return iter(sorted(self._config))

    def __len__(self):
        return len(self._config)

    def __repr__(self):
        return "<Config %s>" % (self._config,)
