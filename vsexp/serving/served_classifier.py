"""The served classifier's code file: MLflow logs it as the model (models from code) rather than a
pickled object; loading the model runs it to name the class (see ``pyfunc.log_classifier``)."""

from mlflow.models import set_model

from vsexp.serving.pyfunc import LightCurveClassifier

set_model(LightCurveClassifier())
