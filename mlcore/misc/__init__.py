"""As theano.misc: pkl_utils (dump and load a pickle whose arrays are .npy files in a zip)."""
