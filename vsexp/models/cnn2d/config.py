"""Mahabal et al.'s 2D CNN's settings."""

from __future__ import annotations

import dataclasses

from vsexp.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Cnn2dConfig:
    """Mahabal et al. (2017) 2D CNN on dm-dt images; see ``vsexp.models.cnn2d``."""

    name: str = "cnn"
    filters: tuple[int, ...] = (16, 32, 64)
    kernels: tuple[int, ...] = (3, 5, 5)
    pool_after: tuple[int, ...] = (1, 2, 3)  # pooling after each conv: ~10x fewer operations on CPU
    dense_units: tuple[int, ...] = (512, 64)
    dropout_rate: float = 0.3
    batch_norm: bool = False  # batch normalisation after each convolution, before its ReLU

    def __post_init__(self):
        if len(self.filters) != len(self.kernels) or not self.filters:
            raise ConfigError(f"model.filters {self.filters} and model.kernels {self.kernels} must be non-empty and of equal length")
