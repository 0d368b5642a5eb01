"""The cyclic temporal CNN's settings."""

from __future__ import annotations

import dataclasses

from vsexp.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class CyclicTcnConfig:
    """Zhang & Bloom (2021)'s cyclic-permutation-invariant temporal CNN; see ``vsexp.models.cyclic_tcn``.

    Attributes:
        channels: filters of each residual block; block ``i`` (from 0) dilates its kernel by 2**i.
            Their OGLE-III network: six blocks of 48, kernel 3.
        kernel: kernel size of every convolution.
        dropout_rate: after each convolution.
        hidden_units: the per-position classifier's hidden layer (a 1x1 convolution).
        side_features: the scaled feature vector (period, amplitudes, harmonic shape...) joins every
            phase position before the classifier (their "aux" inputs); without it the network sees
            the folded shape alone.
    """

    name: str = "cyclic_tcn"
    channels: tuple[int, ...] = (48, 48, 48, 48, 48)
    kernel: int = 3
    dropout_rate: float = 0.1
    hidden_units: int = 64
    side_features: bool = True

    def __post_init__(self):
        if not self.channels or min(self.channels) < 1:
            raise ConfigError(f"model.channels must be one or more positive filter counts, got {self.channels}")
        if self.kernel < 2:
            raise ConfigError(f"model.kernel must be >= 2, got {self.kernel}")
        if not 0 <= self.dropout_rate < 1 or self.hidden_units < 1:
            raise ConfigError(f"model.dropout_rate must be in [0, 1) and model.hidden_units >= 1, "
                              f"got {self.dropout_rate}, {self.hidden_units}")
