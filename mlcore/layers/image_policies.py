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
    chosen = [makers[name](int(layer.generator.rng.integers(2 ** 31))) for name in names]
    for operation in chosen:      # they move the policy's boxes, in its format
        operation.bounding_box_format = layer.bounding_box_format
    return chosen


def picked(choice, outcomes, unchanged):
    """outcomes[choice] (a scalar int tensor picks one); `unchanged` for a choice past them.  Boxes
    ({"boxes", "labels"} dicts) are picked key by key."""
    if isinstance(unchanged, dict):
        return dict(unchanged, **{key: picked(choice, [outcome[key] for outcome in outcomes], unchanged[key])
                                  for key in ("boxes", "labels")})
    result = unchanged
    for k, outcome in enumerate(outcomes):
        result = ops.where(ops.equal(choice, k), outcome, result)
    return result


def through_images(operation, images, transformation):
    return operation.transform_images(images, transformation, True)


def through_masks(operation, masks, transformation):
    return operation.transform_segmentation_masks(masks, transformation, True)


def through_boxes(operation, bounding_boxes, transformation):
    return operation.transform_bounding_boxes(bounding_boxes, transformation, True)


class PolicyLayer(RandomImageLayer):
    """A layer that applies a random sequence of its operations (self.candidates).  Each step of the
    sequence is drawn once, with every candidate's own transformation, so that images, masks and
    boxes go through the same operations with the same parameters."""

    def __init__(self, value_range, factor, interpolation, seed, data_format, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.factor = factor_range(factor, (0, 1), "factor")
        self.interpolation = interpolation

    def pick(self, count):
        """A random integer in [0, count) for the whole batch."""
        return ops.cast(ops.floor(self.generator.uniform((), 0.0, float(count), dtype="float32")), "int32")

    def draw_steps(self, images, count, choices):
        """count steps, each {"choice": an index in [0, choices) (past the candidates: none of them),
        "transformations": each candidate's draw for these images}."""
        return [{"choice": self.pick(choices),
                 "transformations": [operation.get_random_transformation(images, True)
                                     for operation in self.candidates]} for _ in range(count)]

    def through(self, steps, value, transform):
        """value (images, masks or boxes) through the operations the steps picked, in turn;
        transform(operation, value, transformation) applies one (through_images...)."""
        for step in steps:
            outcomes = [transform(operation, value, transformation)
                        for operation, transformation in zip(self.candidates, step["transformations"])]
            value = picked(step["choice"], outcomes, value)
        return value

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "factor": self.factor,
                "interpolation": self.interpolation}


class RandAugment(PolicyLayer):
    """num_ops times, one of Keras's 11 operations picked at random (the same for the whole batch);
    masks and boxes follow the images through the geometric ones.  Keras 3.15 moves the boxes through
    the picked operations in its own list's order, and once for an operation picked twice; mlcore
    moves them as it moves the images."""

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(value_range, factor, interpolation, seed, data_format, **kwargs)
        self.num_ops = num_ops
        self.candidates = operations(self, RAND_AUGMENT_ORDER)

    def get_random_transformation(self, images, training):
        return self.draw_steps(images, self.num_ops, len(self.candidates)) if training else None

    def transform_images(self, images, transformation=None, training=True):
        return images if transformation is None else self.through(transformation, images, through_images)

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        return masks if transformation is None else self.through(transformation, masks, through_masks)

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        return bounding_boxes if transformation is None else self.through(transformation, bounding_boxes, through_boxes)

    def get_config(self):
        return {**super().get_config(), "num_ops": self.num_ops}


class AugMix(PolicyLayer):
    """num_chains chains of chain_depth steps, each step one operation or none (picked at random for the
    batch), mixed with Dirichlet(alpha) weights; the mix blended with the image by a Beta(alpha, alpha)
    weight and clipped to value_range.  all_ops adds Keras's four colour operations to its seven.
    Masks are mixed the same way (so they come out blended, in the compute dtype, as Keras's); boxes
    pass unchanged, as through Keras's: no one box follows a blend of moved images."""

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0, all_ops=True,
                 interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(value_range, factor, interpolation, seed, data_format, **kwargs)
        self.num_chains, self.chain_depth = num_chains, chain_depth
        self.alpha, self.all_ops = alpha, all_ops
        self.candidates = operations(self, GEOMETRY_AND_TONE + (COLOR if all_ops else []))

    def get_random_transformation(self, images, training):
        """The chains' Dirichlet weights, the image's own Beta weight ("keep") and each chain's steps."""
        if not training:
            return None
        gammas = random.gamma([self.num_chains], self.alpha, dtype=self.compute_dtype, seed=self.generator)
        keep = random.beta((), self.alpha, self.alpha, dtype=self.compute_dtype, seed=self.generator)
        chains = [self.draw_steps(images, self.chain_depth, len(self.candidates) + 1) for _ in range(self.num_chains)]
        return {"chain_weights": gammas / ops.sum(gammas), "keep": keep, "chains": chains}

    def transform_images(self, images, transformation=None, training=True):
        if transformation is None:
            return images
        return ops.clip(self.mix(images, transformation, through_images), self.value_range[0], self.value_range[1])

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        return masks if transformation is None else self.mix(masks, transformation, through_masks)

    def mix(self, value, mixing, transform):
        """keep value + (1 - keep) times the chains' outputs mixed by their weights, in the compute dtype."""
        mixed = 0.0
        for chain, steps in enumerate(mixing["chains"]):
            mixed = mixed + ops.cast(self.through(steps, value, transform), self.compute_dtype) * \
                mixing["chain_weights"][chain]
        return mixing["keep"] * ops.cast(value, self.compute_dtype) + (1.0 - mixing["keep"]) * mixed

    def get_config(self):
        return {**super().get_config(), "num_chains": self.num_chains, "chain_depth": self.chain_depth,
                "alpha": self.alpha, "all_ops": self.all_ops}
