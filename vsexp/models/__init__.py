"""Model builders by name, and which representation(s) each consumes."""

from vsexp.config import ModelConfig
from vsexp.models.cnn2d import build_cnn2d
from vsexp.models.cnn_lstm import build_cnn_lstm
from vsexp.models.forest import build_forest
from vsexp.models.multi import build_multi, input_kinds

KERAS_BUILDERS = {"lstm": build_cnn_lstm, "cnn": build_cnn2d, "multi": build_multi}
INPUT_KIND = {"lstm": "sequence", "cnn": "dmdt", "baseline": "features"}
FAMILY = {"lstm": "cnn-lstm", "cnn": "cnn2d", "baseline": "random-forest", "multi": "multi-input"}


def input_kind(config: ModelConfig):
    """The representation a model consumes: a kind, or a tuple of kinds for multi-input models."""
    return input_kinds(config) if config.name == "multi" else INPUT_KIND[config.name]


def input_shape(inputs):
    """Shape(s) without the batch axis: a tuple, or {kind: tuple} for multi-input data."""
    if isinstance(inputs, dict):
        return {k: v.shape[1:] for k, v in inputs.items()}
    return inputs.shape[1:]


__all__ = ["KERAS_BUILDERS", "INPUT_KIND", "FAMILY", "input_kind", "input_shape", "build_cnn_lstm", "build_cnn2d",
           "build_forest", "build_multi"]
