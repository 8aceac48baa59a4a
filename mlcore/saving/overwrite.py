"""overwrite=False in model.save / save_weights: Keras asks on the terminal before replacing a file."""
import os


def may_write(filepath, overwrite):
    """Whether to write filepath: yes if it is new or overwrite is set, else the user's answer to Keras's
    prompt ("y" or "n", asked again until one of them)."""
    if overwrite or not os.path.exists(filepath):
        return True
    answer = input("[WARNING] %s already exists - overwrite? [y/n]" % filepath).strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True
