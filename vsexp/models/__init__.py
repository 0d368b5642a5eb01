"""Model builders by name, and which representation each consumes."""

from vsexp.models.cnn2d import build_cnn2d
from vsexp.models.cnn_lstm import build_cnn_lstm
from vsexp.models.forest import build_forest

KERAS_BUILDERS = {"lstm": build_cnn_lstm, "cnn": build_cnn2d}
INPUT_KIND = {"lstm": "sequence", "cnn": "dmdt", "baseline": "features"}
FAMILY = {"lstm": "cnn-lstm", "cnn": "cnn2d", "baseline": "random-forest"}

__all__ = ["KERAS_BUILDERS", "INPUT_KIND", "FAMILY", "build_cnn_lstm", "build_cnn2d", "build_forest"]
