"""A multi-input network: one branch per representation, merged before the classifier (see
``network``); ``hybrid`` is its variant on the paper's two branches."""

from vsexp.models.multi.config import MultiConfig
from vsexp.models.registry import ModelFamily

BRANCH_INPUT = {"folded": "folded", "features": "features_scaled", "dmdt": "dmdt", "sequence": "sequence"}


def inputs(config: MultiConfig) -> tuple[str, ...]:
    """The representation each enabled branch consumes, in branch order."""
    return tuple(BRANCH_INPUT[b] for b in config.branch_list)


def build(config: MultiConfig, input_shapes: dict, num_classes: int, seed: int = 0):
    from vsexp.models.multi.network import build_multi

    return build_multi(config, input_shapes, num_classes)


FAMILY = ModelFamily(
    name="multi", family="multi-input", title="multi-input network", config_type=MultiConfig,
    description="a multi-input network (model.branches: folded, features, dmdt, sequence)",
    inputs=inputs, build=build, qualifier=lambda params: params.get("model.branches", ""),
    variants={"hybrid": ("the paper's proposed two-branch model (multi-input: sequence,dmdt)",
                         {"model.branches": "sequence,dmdt"})})
