"""The fitted ``ColumnTransformer`` as an ONNX graph with one input per raw column (skl2onnx).

skl2onnx converts the imputers, scaler and encoders; the three estimators it does not know
(``MissingIndicator``, :class:`~kedro_mlops_kit.features.DatetimeParts`,
:class:`~kedro_mlops_kit.features.BooleanAsFloat`) get converters registered here through
skl2onnx's documented extension API (``update_registered_converter``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from skl2onnx import to_onnx, update_registered_converter
from skl2onnx.algebra.onnx_ops import (
    OnnxAdd,
    OnnxCast,
    OnnxConcat,
    OnnxDiv,
    OnnxFloor,
    OnnxGreaterOrEqual,
    OnnxIsNaN,
    OnnxLessOrEqual,
    OnnxMul,
    OnnxSub,
    OnnxWhere,
)
from skl2onnx.common.data_types import (
    BooleanTensorType,
    DoubleTensorType,
    FloatTensorType,
    StringTensorType,
)
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator

from kedro_mlops_kit.features import WIRE_DATATYPES, BooleanAsFloat, DatetimeParts

#: Name of the transformed matrix the network reads.
TRANSFORMED = "transformed"
ONNX_OPSET = 18
_OPSETS = {"": ONNX_OPSET, "ai.onnx.ml": 3}
_TENSOR_TYPES = {
    "FP32": FloatTensorType,
    "FP64": DoubleTensorType,
    "BOOL": BooleanTensorType,
    "BYTES": StringTensorType,
}
_FLOAT = onnx.TensorProto.FLOAT
_DOUBLE = onnx.TensorProto.DOUBLE


def _float_output_shape(width_per_input: int, tensor_type=FloatTensorType):
    def calculate(operator) -> None:
        n_columns = operator.inputs[0].get_second_dimension() or 1
        batch = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = tensor_type([batch, n_columns * width_per_input])

    return calculate


def _convert_missing_indicator(scope, operator, container) -> None:
    # IsNaN is exactly MissingIndicator(missing_values=nan, features="all") on float input.
    opv = container.target_opset
    flags = OnnxIsNaN(operator.inputs[0], op_version=opv)
    result = OnnxCast(flags, to=_FLOAT, op_version=opv, output_names=operator.outputs[:1])
    result.add_to(scope, container)


def _convert_boolean(scope, operator, container) -> None:
    opv = container.target_opset
    result = OnnxCast(operator.inputs[0], to=_FLOAT, op_version=opv, output_names=operator.outputs)
    result.add_to(scope, container)


def _datetime_shape(operator) -> None:
    parts = len(operator.raw_operator.parts)
    _float_output_shape(parts)(operator)


def _convert_datetime(scope, operator, container) -> None:
    """Mirror :func:`kedro_mlops_kit.features.datetime_parts` op for op, in double precision."""
    opv = container.target_opset

    def c(value: float) -> np.ndarray:
        return np.array([value], dtype=np.float64)

    def floor_div(x, d: float):
        return OnnxFloor(OnnxDiv(x, c(d), op_version=opv), op_version=opv)

    def mul(x, k: float):
        return OnnxMul(x, c(k), op_version=opv)

    def add(*xs):
        out = xs[0]
        for x in xs[1:]:
            out = OnnxAdd(out, x, op_version=opv)
        return out

    def sub(x, y):
        return OnnxSub(x, y, op_version=opv)

    def as_double(flag):
        return OnnxCast(flag, to=_DOUBLE, op_version=opv)

    s = OnnxCast(operator.inputs[0], to=_DOUBLE, op_version=opv)
    days = floor_div(s, 86_400.0)
    z = add(days, c(719_468.0))
    era = floor_div(z, 146_097.0)
    doe = sub(z, mul(era, 146_097.0))
    yoe = floor_div(
        add(
            sub(doe, floor_div(doe, 1_460.0)),
            sub(floor_div(doe, 36_524.0), floor_div(doe, 146_096.0)),
        ),
        365.0,
    )
    doy = sub(doe, sub(add(mul(yoe, 365.0), floor_div(yoe, 4.0)), floor_div(yoe, 100.0)))
    mp = floor_div(add(mul(doy, 5.0), c(2.0)), 153.0)
    day = add(sub(doy, floor_div(add(mul(mp, 153.0), c(2.0)), 5.0)), c(1.0))
    after_february = as_double(OnnxGreaterOrEqual(mp, c(10.0), op_version=opv))
    month = sub(add(mp, c(3.0)), mul(after_february, 12.0))
    year = add(yoe, mul(era, 400.0), as_double(OnnxLessOrEqual(month, c(2.0), op_version=opv)))
    shifted = add(days, c(3.0))
    dayofweek = sub(shifted, mul(floor_div(shifted, 7.0), 7.0))
    hours = floor_div(s, 3_600.0)
    hour = sub(hours, mul(floor_div(hours, 24.0), 24.0))
    values = {"year": year, "month": month, "day": day, "dayofweek": dayofweek, "hour": hour}
    columns = [values[p] for p in operator.raw_operator.parts]
    stacked = OnnxConcat(*columns, axis=1, op_version=opv) if len(columns) > 1 else columns[0]
    estimator = operator.raw_operator
    filled = OnnxWhere(
        OnnxIsNaN(stacked, op_version=opv), estimator.median_, stacked, op_version=opv
    )
    scaled = OnnxDiv(
        OnnxSub(filled, estimator.mean_, op_version=opv), estimator.scale_, op_version=opv
    )
    result = OnnxCast(scaled, to=_FLOAT, op_version=opv, output_names=operator.outputs[:1])
    result.add_to(scope, container)


update_registered_converter(
    MissingIndicator,
    "KedroMlopsKitMissingIndicator",
    _float_output_shape(1),
    _convert_missing_indicator,
    overwrite=True,
)
update_registered_converter(
    BooleanAsFloat,
    "KedroMlopsKitBooleanAsFloat",
    _float_output_shape(1),
    _convert_boolean,
    overwrite=True,
)
update_registered_converter(
    DatetimeParts, "KedroMlopsKitDatetimeParts", _datetime_shape, _convert_datetime, overwrite=True
)


def transformer_onnx(transformer: ColumnTransformer, kinds: Mapping[str, str]) -> onnx.ModelProto:
    """Convert the fitted ``transformer`` into an ONNX model.

    Inputs: one ``[batch, 1]`` tensor per feature column, named by the column, of the column's
    wire type. Output: :data:`TRANSFORMED`, the ``[batch, n]`` float32 matrix.
    """
    initial_types = [
        (column, _TENSOR_TYPES[WIRE_DATATYPES[kind]]([None, 1])) for column, kind in kinds.items()
    ]
    model = to_onnx(
        transformer,
        initial_types=initial_types,
        target_opset=_OPSETS,
        final_types=[(TRANSFORMED, FloatTensorType([None, None]))],
    )
    # skl2onnx makes input names identifiers ("Body Mass (g)" -> "Body_Mass__g_"); the served
    # model takes the columns by their own names.
    renames = {
        graph_input.name: column
        for graph_input, column in zip(model.graph.input, kinds, strict=True)
        if graph_input.name != column
    }
    for graph_input in model.graph.input:
        graph_input.name = renames.get(graph_input.name, graph_input.name)
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
    return model
