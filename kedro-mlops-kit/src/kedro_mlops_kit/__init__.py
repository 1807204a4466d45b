"""kedro-mlops-kit: the shared machinery of projects rendered by copier-kedro-mlops.

The project owns its data, model factory, nodes and pipelines; this plugin owns what every
project shares: training loop and data parallelism, registry and promotion, ONNX export, the
local Triton runner and client, rollback, benchmarks and the drift job. Its commands are Kedro
project commands (``kedro serving ...``, ``kedro drift ...``, ``kedro data ...``).
"""

__version__ = "0.4.0"
