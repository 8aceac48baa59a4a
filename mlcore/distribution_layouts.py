"""Keras 3's TensorLayout and LayoutMap: how one tensor is split over a DeviceMesh, and which
variables (by path) get which layout.  Only names here; backends/jax/sharding.py turns a layout
into a jax.sharding.NamedSharding.  mlcore.distribution exports both.
"""
import collections.abc
import re


class TensorLayout:
    """One mesh axis name (or None: not split) per dimension of a tensor, as PartitionSpec:
    TensorLayout((None, "model"), mesh) splits a kernel's columns over the mesh's "model" axis.
    The mesh may come later, from the LayoutMap the layout is put in."""

    def __init__(self, axes, device_mesh=None):
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._check_axes()

    @property
    def axes(self):
        return self._axes

    @property
    def device_mesh(self):
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh):
        if self._device_mesh is not None:
            raise ValueError("Cannot override device mesh value. Existing value is %s" % (self._device_mesh,))
        self._device_mesh = device_mesh
        self._check_axes()

    @property
    def backend_layout(self):
        """The jax.sharding.NamedSharding of this layout."""
        from backends.jax.sharding import to_jax_sharding
        return to_jax_sharding(self)

    def _check_axes(self):
        if self._device_mesh is None:
            return
        unknown = set(self._axes) - {None} - set(self._device_mesh.axis_names)
        if unknown:
            raise ValueError("Invalid axis names for Layout. Valid axis names: %s, Got %s"
                             % (set(self._device_mesh.axis_names), set(self._axes) - {None}))

    def __repr__(self):
        return "<TensorLayout axes=%s, device_mesh=%s>" % (self.axes, self.device_mesh)


class LayoutMap(collections.abc.MutableMapping):
    """Variable paths to TensorLayouts, where a key is a regular expression: a lookup returns the
    layout of the key equal to the path, else of the one key that fully matches it, else None.

        layout_map = LayoutMap(mesh)
        layout_map[".*dense.*kernel"] = (None, "model")     # a tuple becomes TensorLayout(axes, mesh)
        layout_map["sequential/dense/kernel"]               # -> that layout
    """

    def __init__(self, device_mesh):
        self._layout_map = collections.OrderedDict()
        self._device_mesh = device_mesh

    @property
    def device_mesh(self):
        return self._device_mesh

    def __getitem__(self, key):
        if key in self._layout_map:
            return self._layout_map[key]
        matches = [pattern for pattern in self._layout_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError("Path '%s' matches multiple layout specification keys: %s. Please make sure each "
                             "tensor/variable path only matches at most one layout specification key in the "
                             "LayoutMap." % (key, matches))
        return self._layout_map[matches[0]] if matches else None

    def __setitem__(self, key, layout):
        if key in self._layout_map:
            raise ValueError("%s already exist in the LayoutMap with value %s. Please make sure to not use "
                             "duplicated keys." % (key, self._layout_map[key]))
        if isinstance(layout, tuple):
            layout = TensorLayout(layout)
        if not isinstance(layout, TensorLayout):
            raise ValueError("%s should be a TensorLayout type, got %s" % (layout, type(layout)))
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key):
        return self._layout_map.pop(key)

    def __len__(self):
        return len(self._layout_map)

    def __iter__(self):
        return iter(self._layout_map)
