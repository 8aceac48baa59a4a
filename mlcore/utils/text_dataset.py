"""keras.utils.text_dataset_from_directory: the .txt files of one sub-folder per class, in batches of numpy
string arrays (with their labels) that a model's text pipeline or a Python loop reads directly."""
import functools

from mlcore.utils.dataset_utils import dataset_from_directory


def read_text(path, max_length):
    """A file's text, its first max_length characters when max_length is set (Keras's grain loader)."""
    with open(path, "r") as f:
        text = f.read()
    return text if max_length is None else text[:max_length]


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """A PyDataset of (texts, labels) batches (texts alone when label_mode or labels is None), texts a numpy
    str array, with Keras 3's arguments, file order, seeded shuffle and validation split; it has
    `class_names` and `file_paths`. subset="both" gives [training, validation]. format ("tf" or "grain") is
    checked and otherwise ignored: both give this dataset."""
    caller = "text_dataset_from_directory"
    return dataset_from_directory(caller, "text files", (".txt",), functools.partial(read_text, max_length=max_length),
                                  directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                                  validation_split, subset, follow_links, format, verbose)
