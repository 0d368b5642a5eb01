"""Zhang & Bloom (2021)'s cyclic-permutation-invariant temporal CNN on the folded curve (see
``network``), with the scaled feature vector (period included) as a side input."""

from vsexp.models.cyclic_tcn.config import CyclicTcnConfig
from vsexp.models.registry import ModelFamily


def inputs(config: CyclicTcnConfig) -> tuple[str, ...]:
    return ("folded", "features_scaled") if config.side_features else ("folded",)


def build(config: CyclicTcnConfig, input_shapes: dict, num_classes: int, seed: int = 0):
    from vsexp.models.cyclic_tcn.network import build_cyclic_tcn

    return build_cyclic_tcn(config, input_shapes, num_classes)


def custom_objects() -> dict:
    from vsexp.models.cyclic_tcn.network import CyclicPadding1D

    return {"CyclicPadding1D": CyclicPadding1D}


FAMILY = ModelFamily(
    name="cyclic_tcn", family="cyclic-tcn", title="cyclic temporal CNN", config_type=CyclicTcnConfig,
    description="Zhang & Bloom's cyclic-permutation-invariant temporal CNN on the folded curve",
    inputs=inputs, build=build, custom_objects=custom_objects,
    qualifier=lambda params: "" if str(params.get("model.side_features", "True")).lower() == "true" else "folded only")
