"""Render tier: the Kubernetes manifests validate strictly and the overlays fit the base."""

from __future__ import annotations

import shutil
import subprocess

import yaml

REQUIRED_KINDS = {
    "Deployment",
    "Service",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Job",
    "CronJob",
}


def test_base_manifests_validate_strictly(rendered):
    _, project = rendered
    base = project / "deploy" / "k8s" / "base"
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    manifests = [base / name for name in kustomization["resources"]]
    validator = shutil.which("kubernetes-validate")
    assert validator, "kubernetes-validate is missing (nox installs it)"
    result = subprocess.run(
        [validator, "--strict", *map(str, manifests)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = {yaml.safe_load(m.read_text())["kind"] for m in manifests}
    assert kinds >= REQUIRED_KINDS


def test_gpu_requests_follow_accelerator(rendered):
    answers, project = rendered
    base = project / "deploy" / "k8s" / "base"
    deployment = yaml.safe_load((base / "triton-deployment.yaml").read_text())
    limits = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert ("nvidia.com/gpu" in limits) == (answers["accelerator"] == "cuda")


def test_overlays_name_the_base_images(rendered):
    answers, project = rendered
    base = project / "deploy" / "k8s" / "base"
    images = set()
    for manifest in base.glob("*.yaml"):
        text = manifest.read_text()
        images |= {
            line.split("image:")[1].strip() for line in text.splitlines() if "image:" in line
        }
    for overlay in ("staging", "production"):
        folder = project / "deploy" / "k8s" / "overlays" / overlay
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        assert all((folder / r).resolve().is_dir() for r in kustomization["resources"])
        assert {i["name"] for i in kustomization["images"]} == images
        assert kustomization["namespace"].endswith(overlay)


def test_triton_rolls_out_without_an_unready_pod(rendered):
    """Startup, readiness and liveness probes on Triton's health API; no unavailable replica."""
    _, project = rendered
    base = project / "deploy" / "k8s" / "base"
    deployment = yaml.safe_load((base / "triton-deployment.yaml").read_text())
    spec = deployment["spec"]
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = spec["template"]["spec"]["containers"][0]
    startup, ready, live = (
        container[f"{kind}Probe"] for kind in ("startup", "readiness", "liveness")
    )
    assert startup["httpGet"]["path"] == ready["httpGet"]["path"] == "/v2/health/ready"
    assert live["httpGet"]["path"] == "/v2/health/live"
    # A slow model load (5 minutes) is not killed by the liveness probe.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300
    assert "initialDelaySeconds" not in live, "the startup probe gates liveness"
    annotations = spec["template"]["metadata"]["annotations"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == ports["metrics"]
    budget = yaml.safe_load((base / "triton-pdb.yaml").read_text())
    labels = spec["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["maxUnavailable"] == 1
