"""Keras 3's augmentation policies: RandAugment (num_ops operations, each picked at random for the batch)
and AugMix (chains of random operations, blended with Dirichlet weights, then with the image).  The
operations are mlcore's own augmentation layers, with the arguments Keras gives them.

In a compiled step every pick is a graph draw, so each call picks anew (Keras picks AugMix's operations
in Python, once per trace); each use of an operation draws its own parameters (Keras's RandAugment reuses
one draw per operation when it picks it twice)."""
from mlcore import ops, random
from mlcore.layers.image_affine import RandomRotation, RandomTranslation
from mlcore.layers.image_augmentation import RandomBrightness, RandomContrast
from mlcore.layers.image_base import RandomImageLayer, factor_range
from mlcore.layers.image_color import RandomColorDegeneration
from mlcore.layers.image_filtering import RandomSharpness
from mlcore.layers.image_tone import AutoContrast, Equalization, RandomPosterization, Solarization
from mlcore.layers.image_warps import RandomShear

GEOMETRY_AND_TONE = ["random_shear", "random_translation", "random_rotation", "random_posterization", "solarization",
                     "auto_contrast", "equalization"]
COLOR = ["random_brightness", "random_color_degeneration", "random_contrast", "random_sharpness"]
RAND_AUGMENT_ORDER = GEOMETRY_AND_TONE[:3] + COLOR + GEOMETRY_AND_TONE[3:]


def operations(layer, names):
    """Keras's augmentation layers for a policy of `factor` = (0, f) on value_range, in the order of names."""
    factor, value_range, interpolation = layer.factor, layer.value_range, layer.interpolation
    makers = {
        "random_shear": lambda seed: RandomShear(factor, factor, interpolation=interpolation, seed=seed),
        "random_translation": lambda seed: RandomTranslation(factor, factor, interpolation=interpolation, seed=seed),
        "random_rotation": lambda seed: RandomRotation(factor, interpolation=interpolation, seed=seed),
        "random_brightness": lambda seed: RandomBrightness(factor, value_range, seed=seed),
        "random_color_degeneration": lambda seed: RandomColorDegeneration(factor, value_range, seed=seed),
        "random_contrast": lambda seed: RandomContrast(factor, value_range, seed=seed),
        "random_sharpness": lambda seed: RandomSharpness(factor, value_range, seed=seed),
        "random_posterization": lambda seed: RandomPosterization(max(1, int(8 * factor[1])), value_range, seed=seed),
        "solarization": lambda seed: Solarization(factor, factor, value_range, seed=seed),
        "auto_contrast": lambda seed: AutoContrast(value_range),
        "equalization": lambda seed: Equalization(value_range)}
    return [makers[name](int(layer.generator.rng.integers(2 ** 31))) for name in names]


def apply_one(choice, candidates, images):
    """The images through candidates[choice] (a scalar int tensor); unchanged for a choice past them."""
    result = images
    for k, candidate in enumerate(candidates):
        result = ops.where(ops.equal(choice, k), candidate.transform(images, True), result)
    return result


class PolicyLayer(RandomImageLayer):
    def __init__(self, value_range, factor, interpolation, seed, data_format, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.factor = factor_range(factor, (0, 1), "factor")
        self.interpolation = interpolation

    def pick(self, count):
        """A random integer in [0, count) for the whole batch."""
        return ops.cast(ops.floor(self.generator.uniform((), 0.0, float(count), dtype="float32")), "int32")

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "factor": self.factor,
                "interpolation": self.interpolation}


class RandAugment(PolicyLayer):
    """num_ops times, one of Keras's 11 operations picked at random (the same for the whole batch)."""
    warps_without_masks = True

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(value_range, factor, interpolation, seed, data_format, **kwargs)
        self.num_ops = num_ops
        self.candidates = operations(self, RAND_AUGMENT_ORDER)

    def augment(self, images):
        for _ in range(self.num_ops):
            images = apply_one(self.pick(len(self.candidates)), self.candidates, images)
        return images

    def get_config(self):
        return {**super().get_config(), "num_ops": self.num_ops}


class AugMix(PolicyLayer):
    """num_chains chains of chain_depth steps, each step one operation or none (picked at random for the
    batch), mixed with Dirichlet(alpha) weights; the mix blended with the image by a Beta(alpha, alpha)
    weight and clipped to value_range.  all_ops adds Keras's four colour operations to its seven."""
    warps_without_masks = True

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0, all_ops=True,
                 interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(value_range, factor, interpolation, seed, data_format, **kwargs)
        self.num_chains, self.chain_depth = num_chains, chain_depth
        self.alpha, self.all_ops = alpha, all_ops
        self.candidates = operations(self, GEOMETRY_AND_TONE + (COLOR if all_ops else []))

    def augment(self, images):
        gammas = random.gamma([self.num_chains], self.alpha, dtype=self.compute_dtype, seed=self.generator)
        chain_weights = gammas / ops.sum(gammas)
        keep = random.beta((), self.alpha, self.alpha, dtype=self.compute_dtype, seed=self.generator)
        mixed = 0.0
        for chain in range(self.num_chains):
            augmented = images
            for _ in range(self.chain_depth):
                augmented = apply_one(self.pick(len(self.candidates) + 1), self.candidates, augmented)
            mixed = mixed + augmented * chain_weights[chain]
        return ops.clip(keep * images + (1.0 - keep) * mixed, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "num_chains": self.num_chains, "chain_depth": self.chain_depth,
                "alpha": self.alpha, "all_ops": self.all_ops}
