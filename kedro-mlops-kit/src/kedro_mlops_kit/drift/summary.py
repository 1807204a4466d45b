"""Short markdown summary of a drift report (for MR comments, job logs and the docs site)."""

from __future__ import annotations

from typing import Any

from kedro_mlops_kit.drift.ranking import format_p_value, severity_order

__all__ = ["render_markdown"]


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _mmd_p_value(mmd: dict[str, Any]) -> str:
    # A permutation p-value of 0 only means "beyond every permutation": its resolution is
    # 1 / n_permutations.
    if mmd["p_value"] == 0:
        return f"< {1 / mmd['n_permutations']:.2g}"
    return _fmt(mmd["p_value"], ".3g")


def _verdict(report: dict[str, Any]) -> str:
    thresholds = report["thresholds"]
    drifted = report["drifted_features"]
    if report["detector"] == "mmd":
        mmd = report["mmd"]
        test = (
            f"MMD p-value {_mmd_p_value(mmd)} vs p_val {thresholds['p_val']} "
            f"({mmd['n_permutations']} permutations)"
        )
    else:
        test = (
            f"{len(drifted)}/{len(report['features'])} features below p < "
            f"{_fmt(thresholds['threshold'], '.3g')} ({thresholds['correction']} correction)"
        )
    verdict = "**DRIFT DETECTED**" if report["is_drift"] else "**No drift**"
    return f"{verdict}: `{report['detector']}` detector, {test}."


def render_markdown(report: dict[str, Any]) -> str:
    """Return a verdict line, run facts and a per-feature table (drifted features first)."""
    features = report["features"]
    drifted = report["drifted_features"]
    order = severity_order(features)
    lines = [
        "# Drift report",
        "",
        _verdict(report),
        "",
        f"- Model version: `{report['model_version']}`",
        f"- Reference rows: {report['n_reference']} (used {report['n_reference_used']})",
        f"- Batch rows: {report['n_batch']} (used {report['n_batch_used']})",
        f"- Drifted features: {', '.join(f'`{n}`' for n in drifted) if drifted else 'none'}",
    ]
    if report["extra_columns_ignored"]:
        extra = ", ".join(f"`{n}`" for n in report["extra_columns_ignored"])
        lines.append(f"- Extra columns ignored: {extra}")
    if report["detector"] == "mmd":
        lines.append("- Per-feature tests below are diagnostics; the verdict is the MMD test.")
    # Raw-table reports also carry missing-value rates and the share of unseen categories.
    raw = any("missing_rate_batch" in entry for entry in features.values())
    extra_header = " Missing ref -> batch | Unseen categories |" if raw else ""
    lines += [
        "",
        "| Feature | Test | Statistic | p-value | Ref mean | Batch mean | Drift |" + extra_header,
        "|---|---|---:|---:|---:|---:|:---:|" + ("---:|---:|" if raw else ""),
    ]
    for name in order:
        entry = features[name]
        row = (
            f"| {name} | {entry['test']} | {_fmt(entry['statistic'], '.4g')} "
            f"| {format_p_value(entry['p_value'])} | {_fmt(entry['reference_mean'], '.4g')} "
            f"| {_fmt(entry['batch_mean'], '.4g')} | {'yes' if entry['is_drift'] else ''} |"
        )
        if raw:
            unseen = entry.get("unseen_category_share")
            row += (
                f" {entry['missing_rate_reference']:.1%} -> {entry['missing_rate_batch']:.1%} "
                f"| {'' if unseen is None else f'{unseen:.1%}'} |"
            )
        lines.append(row)
    return "\n".join(lines) + "\n"
