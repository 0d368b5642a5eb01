"""The paper's 1D CNN-LSTM on zero-padded light-curve sequences (see ``network``)."""

from vsexp.models.cnn_lstm.config import CnnLstmConfig
from vsexp.models.registry import ModelFamily


def build(config: CnnLstmConfig, input_shapes: dict, num_classes: int, seed: int = 0):
    from vsexp.models.cnn_lstm.network import build_cnn_lstm

    return build_cnn_lstm(config, input_shapes["sequence"], num_classes)


FAMILY = ModelFamily(
    name="lstm", family="cnn-lstm", title="1D CNN-LSTM", config_type=CnnLstmConfig,
    description="the paper's 1D CNN-LSTM on padded sequences",
    inputs=lambda config: ("sequence",), build=build)
