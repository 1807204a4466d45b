import pytest

from kedro_mlops_kit.evaluation.gate import apply_quality_gate, decide_promotion

BOUNDS = {"min": {"accuracy": 0.9}, "max": {"log_loss": 0.4}}


def test_gate_passes_within_bounds():
    result = apply_quality_gate({"accuracy": 0.95, "log_loss": 0.1}, BOUNDS, "classification")
    assert result.passed
    assert result.failures == []


def test_gate_lists_every_broken_bound():
    result = apply_quality_gate({"accuracy": 0.5, "log_loss": 0.9}, BOUNDS, "classification")
    assert not result.passed
    assert result.failures == [
        "accuracy=0.5000 is below the minimum 0.9",
        "log_loss=0.9000 is above the maximum 0.4",
    ]


def test_missing_metric_fails_the_gate():
    result = apply_quality_gate({"accuracy": 0.95}, BOUNDS, "classification")
    assert result.failures == ["log_loss=missing is above the maximum 0.4"]


@pytest.mark.parametrize(
    ("gate", "value", "champion", "greater", "expected"),
    [
        (False, 0.99, None, True, False),
        (False, 0.99, 0.10, True, False),
        (True, 0.90, None, True, True),
        (True, 0.90, 0.90, True, True),
        (True, 0.89, 0.90, True, False),
        (True, 50.0, 55.0, False, True),
        (True, 60.0, 55.0, False, False),
    ],
)
def test_promotion_decision(gate, value, champion, greater, expected):
    promoted, reason = decide_promotion(gate, "m", value, champion, greater)
    assert promoted is expected
    assert reason


def test_champion_without_the_metric_leaves_the_decision_to_the_gate():
    promoted, reason = decide_promotion(True, "f1", 0.8, None, True, champion_version="3")
    assert promoted is True
    assert reason == "champion v3 has no f1; promoted on the gate alone (f1=0.8000)"
    # A NaN recorded for the champion cannot be compared with either.
    promoted, reason = decide_promotion(True, "f1", 0.8, float("nan"), True, champion_version="3")
    assert (promoted, reason.split(";")[0]) == (True, "champion v3 has no f1")
    # The gate still has the last word.
    assert decide_promotion(False, "f1", 0.8, None, True, champion_version="3") == (
        False,
        "quality gate failed",
    )


def test_no_champion_at_all_is_said_as_such():
    assert decide_promotion(True, "m", 0.5, None, True) == (
        True,
        "no current champion; m=0.5000 passes the gate",
    )
