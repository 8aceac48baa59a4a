"""keras.optimizers.legacy, as Keras 3 has it: names kept so that old imports resolve, but making one
raises, since Keras 3 dropped tf.keras's legacy optimizers.  mlcore's own optimizers take Keras 2's
lr= and decay= with their old meaning."""


class LegacyOptimizerWarning:
    def __init__(self, *args, **kwargs):
        raise ImportError("`keras.optimizers.legacy` is not supported in Keras 3, nor in mlcore, which follows "
                          "it. Use the optimizer of the same name in mlcore.optimizers (it accepts Keras 2's "
                          "`lr=` and `decay=`).")


Adagrad = Adam = Ftrl = Optimizer = RMSprop = SGD = LegacyOptimizerWarning
