"""mlcore.sandbox: the Theano module paths that tutorials import from (theano.sandbox.rng_mrg)."""
