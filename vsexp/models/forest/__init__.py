"""The feature models: a random forest (UPSILoN-style, the baseline) or gradient-boosted trees
(see ``estimator``)."""

from vsexp.config import comma_separated
from vsexp.models.forest.config import ForestConfig
from vsexp.models.registry import ModelFamily


def build(config: ForestConfig, input_shapes: dict, num_classes: int, seed: int = 0):
    from vsexp.models.forest.estimator import build_forest

    return build_forest(config, seed=seed)


def qualifier(params: dict) -> str:
    """The kind when not a random forest, and the feature groups when not all."""
    parts = [params["model.kind"]] if params.get("model.kind", "random") != "random" else []
    groups = comma_separated(params.get("model.feature_groups", ""))
    return ",".join(parts + (["+".join(groups)] if groups else []))


FAMILY = ModelFamily(
    name="baseline", family="random-forest", title="random forest", config_type=ForestConfig,
    description="a random forest on light-curve features (or boosted trees: model.kind=boosted)",
    inputs=lambda config: ("features",), build=build, network=False, qualifier=qualifier,
    served_transform=lambda config, transform: transform.with_feature_groups(config.feature_group_list))
