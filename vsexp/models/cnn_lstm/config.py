"""The paper's 1D CNN-LSTM's settings."""

from __future__ import annotations

import dataclasses

from vsexp.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class CnnLstmConfig:
    """The paper's 1D CNN-LSTM (Fig. 4); see ``vsexp.models.cnn_lstm``."""

    name: str = "lstm"
    filters: tuple[int, ...] = (32, 32, 64, 64)
    kernels: tuple[int, ...] = (3, 3, 5, 5)
    pool_after: tuple[int, ...] = (2, 4)  # 1-based conv indices followed by MaxPooling1D(2)
    lstm_units: tuple[int, ...] = (32, 64)
    dense_units: tuple[int, ...] = (1024, 512)
    dropout_rate: float = 0.2

    def __post_init__(self):
        if len(self.filters) != len(self.kernels) or not self.filters:
            raise ConfigError(f"model.filters {self.filters} and model.kernels {self.kernels} must be non-empty and of equal length")
