"""Keras 1/2's module path keras.utils.data_utils, kept so that `from mlcore.utils.data_utils import
get_file` (as fast.ai's vgg16.py writes it) imports.  Re-exports only: get_file and validate_file live in
mlcore/utils/file_utils.py, Sequence (Keras 3's PyDataset) in mlcore/utils/py_dataset.py.  Keras 2's
enqueuers (OrderedEnqueuer, GeneratorEnqueuer) are not here: fit reads a Sequence or generator itself."""
from mlcore.utils.file_utils import get_file, validate_file  # noqa: F401
from mlcore.utils.py_dataset import PyDataset, Sequence  # noqa: F401
