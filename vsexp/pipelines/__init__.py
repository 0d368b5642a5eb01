"""The steps behind the entry points. Those that train import TensorFlow (through the modules that
use it, without its start-up banner); promote, convert, report, evaluate and predict of a forest do not."""
