"""The learning tasks the project supports; the task is a parameter, never a code variant."""

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)


def check_task(task: str) -> str:
    """Return ``task`` unchanged if supported, else raise ``ValueError`` naming the choices."""
    if task not in TASKS:
        raise ValueError(
            f"Unknown task {task!r}. Set data_processing.task in "
            f"conf/base/parameters_data_processing.yml to one of {list(TASKS)}."
        )
    return task
