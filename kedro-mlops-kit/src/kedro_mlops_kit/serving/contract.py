"""The serving contract of one exported version, stored as JSON inside its ``model.onnx``.

What a client needs beyond tensor names and types (the schema to check rows against, the task,
the label of each output column) is written by export into the ONNX file's ``metadata_props`` under
:data:`CONTRACT_KEY`, as UTF-8 JSON. Being inside the artefact, it is versioned with it (a
rollback serves the labels of the version it serves), it never touches the team's committed
``config.pbtxt`` (see :mod:`kedro_mlops_kit.serving.model_config`), and names with commas,
quotes or non-ASCII characters survive unchanged. Triton ignores the metadata; clients read it
from the model repository with :func:`repository_contract`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kedro_mlops_kit.serving.errors import ModelRepositoryError

CONTRACT_KEY = "kedro_mlops_kit.contract"
MODEL_FILE = "model.onnx"
CONTRACT_VERSION = 2


@dataclass(frozen=True)
class ModelSignature:
    """What an exported model consumes and produces: the serving contract of one version.

    Attributes:
        feature_columns: The served inputs: one per raw feature column, named by it.
        datatypes: Triton data type of each input (FP32, FP64, BOOL, BYTES), by column.
        n_outputs: Width of the ``predictions`` output.
        task: ``classification`` or ``regression``.
        class_labels: Label of each output column (classification), else None.
        schema_yaml: The table schema the model was trained with (pandera YAML): clients check
            rows against it before sending them.
    """

    feature_columns: tuple[str, ...]
    datatypes: dict[str, str]
    n_outputs: int
    task: str
    class_labels: tuple[str, ...] | None = None
    schema_yaml: str = ""

    @property
    def n_features(self) -> int:
        """Number of served inputs (raw feature columns)."""
        return len(self.feature_columns)

    @property
    def kinds(self) -> dict[str, str]:
        """Kind of each feature column, from the schema."""
        return {c: self.schema().kinds[c] for c in self.feature_columns}

    def schema(self):
        """Return the :class:`~kedro_mlops_kit.schema.TableSchema` the model was trained with."""
        from kedro_mlops_kit.schema import TableSchema

        return TableSchema.from_yaml(self.schema_yaml, "the model's contract")

    def to_json(self) -> str:
        """Serialise as JSON (non-ASCII kept as is: the ONNX metadata is UTF-8)."""
        return json.dumps(
            {
                "contract_version": CONTRACT_VERSION,
                "inputs": [
                    {"name": c, "datatype": self.datatypes[c]} for c in self.feature_columns
                ],
                "task": self.task,
                "class_labels": None if self.class_labels is None else list(self.class_labels),
                "n_outputs": self.n_outputs,
                "schema": self.schema_yaml,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> ModelSignature:
        """Parse :meth:`to_json` output; raise ``ModelRepositoryError`` if it is malformed."""
        try:
            data = json.loads(text)
            if data.get("contract_version") != CONTRACT_VERSION:
                raise ValueError(
                    f"contract version {data.get('contract_version')} is not {CONTRACT_VERSION}; "
                    "re-export the model with this version of kedro-mlops-kit"
                )
            labels = data.get("class_labels")
            inputs = data["inputs"]
            return cls(
                feature_columns=tuple(str(i["name"]) for i in inputs),
                datatypes={str(i["name"]): str(i["datatype"]) for i in inputs},
                n_outputs=int(data["n_outputs"]),
                task=str(data["task"]),
                class_labels=None if labels is None else tuple(str(c) for c in labels),
                schema_yaml=str(data["schema"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelRepositoryError(f"malformed serving contract {text[:200]!r}: {exc}") from exc


def write_contract(onnx_path: Path, signature: ModelSignature) -> None:
    """Store ``signature`` in the metadata of the ONNX file at ``onnx_path`` (in place)."""
    import onnx

    model = onnx.load(str(onnx_path))
    for prop in list(model.metadata_props):
        if prop.key == CONTRACT_KEY:
            model.metadata_props.remove(prop)
    model.metadata_props.add(key=CONTRACT_KEY, value=signature.to_json())
    onnx.save(model, str(onnx_path))


def read_contract(onnx_path: Path) -> ModelSignature:
    """Return the contract stored in the ONNX file at ``onnx_path``.

    Raises:
        ModelRepositoryError: The file is missing or was not written by ``kedro serving export``.
    """
    import onnx

    path = Path(onnx_path)
    if not path.is_file():
        raise ModelRepositoryError(f"{path} does not exist; run `kedro serving export` first")
    model = onnx.load(str(path), load_external_data=False)
    for prop in model.metadata_props:
        if prop.key == CONTRACT_KEY:
            return ModelSignature.from_json(prop.value)
    raise ModelRepositoryError(
        f"{path} carries no serving contract ({CONTRACT_KEY!r} metadata); re-export it with "
        "`kedro serving export`"
    )


def repository_contract(
    repository: Path, model_name: str, version: int | str | None = None
) -> ModelSignature:
    """Return the contract of ``version`` (default: the highest, i.e. Triton's default target).

    Raises:
        ModelRepositoryError: The repository holds no such exported version.
    """
    model_dir = Path(repository) / model_name
    if version in (None, ""):
        versions = sorted(
            int(p.name)
            for p in (model_dir.iterdir() if model_dir.is_dir() else ())
            if p.name.isdigit() and (p / MODEL_FILE).is_file()
        )
        if not versions:
            raise ModelRepositoryError(
                f"{model_dir} holds no <version>/{MODEL_FILE}; run `kedro serving export` first"
            )
        version = versions[-1]
    return read_contract(model_dir / str(version) / MODEL_FILE)
