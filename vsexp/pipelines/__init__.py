"""The steps behind the entry points. Importing them imports TensorFlow, without its start-up banner."""

from vsexp.console import import_tensorflow_quietly

import_tensorflow_quietly()
