"""Mahabal et al. (2017)'s 2D CNN on dm-dt maps (see ``network``)."""

from vsexp.models.cnn2d.config import Cnn2dConfig
from vsexp.models.registry import ModelFamily


def build(config: Cnn2dConfig, input_shapes: dict, num_classes: int, seed: int = 0):
    from vsexp.models.cnn2d.network import build_cnn2d

    return build_cnn2d(config, input_shapes["dmdt"], num_classes)


FAMILY = ModelFamily(
    name="cnn", family="cnn2d", title="2D CNN", config_type=Cnn2dConfig,
    description="Mahabal et al.'s 2D CNN on dm-dt maps",
    inputs=lambda config: ("dmdt",), build=build)
