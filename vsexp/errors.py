"""One error hierarchy for vsexp: every user-facing failure names the file or object at fault."""


class VsexpError(Exception):
    """Base class of every error vsexp raises on purpose."""


class LightCurveError(VsexpError):
    """A light curve (a file or an in-memory object) is unreadable or fails validation.

    Attributes:
        source: the file path or object id at fault.
        reason: a short machine-readable rejection kind (e.g. ``too_few_points``).
    """

    def __init__(self, source: str, reason: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source = source
        self.reason = reason


class DatasetError(VsexpError):
    """A dataset cannot be built or loaded (bad source spec, missing labels, empty classes)."""


class ConfigError(VsexpError, ValueError):
    """A parameter or configuration value is not allowed; the message says what is."""
