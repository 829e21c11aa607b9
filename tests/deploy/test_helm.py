"""The Helm chart (deploy/helm/ado): rendered by Helm's own library, every object valid.

No cluster here: the chart is rendered offline by Helm v4's Go library (the
``helm-python-sdk`` package, the same template engine and values-schema check as
``helm template``) and every rendered object is validated, unknown fields refused, against the
Kubernetes API's JSON schemas of the oldest version the chart supports and of the newest one
``kubernetes-validate`` ships. The rest are the rules a ``helm install`` would only break at
run time: what a pre-install hook may reference, which Secret keys the pods read, probes and
security settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import helm_python as helm
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from ruamel.yaml import YAML

from tests.deploy.tools import ROOT

CHART = ROOT / "deploy/helm/ado"
#: The chart's kubeVersion floor (Chart.yaml) and the newest schemas available.
KUBE_VERSIONS = ("1.27", kubernetes_validate.latest_version())

VALUES: dict[str, Any] = {
    "database": {"url": "postgresql://ado:secret@postgres:5432/ado"},
    "broker": {"url": "redis://:secret@redis:6379/0"},
    "secretKey": "a-passphrase-of-16-or-more-characters",
    "apiKeys": {"ANTHROPIC_API_KEY": "sk-test"},
}
INGRESS: dict[str, Any] = {
    "enabled": True,
    "className": "nginx",
    "hosts": [{"host": "ado.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}],
    "tls": [{"secretName": "ado-tls", "hosts": ["ado.example.com"]}],
}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object the chart renders with ``values`` (release ``ado`` in namespace ``ado``)."""
    chart = helm.Chart.load(CHART)
    manifests = chart.render(values, name="ado", namespace="ado", is_install=True)
    objects = []
    for path, text in sorted(manifests.items()):
        if path.endswith(".txt"):
            continue
        objects += [doc for doc in YAML(typ="safe").load_all(text) if doc]
    return objects


def merged(**overrides: Any) -> dict[str, Any]:
    return {**VALUES, **overrides}


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in by_kind(objects, kind) if o["metadata"]["name"] == name]
    return found


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield obj["metadata"]["name"], obj["spec"]["template"]["spec"]


def hook_weight(obj: dict[str, Any]) -> int | None:
    annotations = obj["metadata"].get("annotations", {})
    if "helm.sh/hook" not in annotations:
        return None
    return int(annotations.get("helm.sh/hook-weight", "0"))


VARIANTS = {
    "default": VALUES,
    "ingress": merged(ingress=INGRESS),
    "no-workers": merged(worker={"enabled": False}, broker={"url": ""}),
    "fixed-workers": merged(worker={"autoscaling": {"enabled": False}, "replicas": 3}),
    "existing-secret": {"existingSecret": "ado-secrets", "apiKeys": {"OPENAI_API_KEY": "x"}},
    "workspace-claim": merged(workspace={"existingClaim": "ado-workspace"}),
    "one-api-pod": merged(api={"replicas": 1}),
}


def assert_valid_kubernetes(objects: list[dict[str, Any]]) -> None:
    """Each object valid, unknown fields refused, for every version of ``KUBE_VERSIONS``."""
    assert objects
    for obj in objects:
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = ".".join(map(str, exc.path))
                pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} ({version}): {where}: {exc}")


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_rendered_object_is_valid_kubernetes(variant: str) -> None:
    assert_valid_kubernetes(render(VARIANTS[variant]))


def test_helm_lint_finds_no_error_or_warning() -> None:
    report = helm.lint(CHART, VALUES, strict=True, kube_version="v1.27.0")
    assert report["errors"] == []
    # Severity 1 is information ("icon is recommended"); 2 and 3 are warnings and errors.
    assert [m for m in report["messages"] if m["severity"] > 1] == []


def test_the_kubernetes_schemas_refuse_an_unknown_field() -> None:
    [deployment, *_] = by_kind(render(VALUES), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="livenesProbe"):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[0], strict=True)


def test_the_release_has_what_the_issue_asks() -> None:
    objects = render(VALUES)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "PodDisruptionBudget",
        "Secret",
        "Secret",
        "Service",
        "ServiceAccount",
    ]
    api = one(objects, "Deployment", "ado-api")
    assert api["spec"]["replicas"] >= 2
    [container] = api["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["ado", "serve"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    pdb = one(objects, "PodDisruptionBudget", "ado-api")
    assert pdb["spec"]["selector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]
    service = one(objects, "Service", "ado")
    assert service["spec"]["selector"] == api["spec"]["template"]["metadata"]["labels"]
    worker = one(objects, "Deployment", "ado-worker")
    assert "replicas" not in worker["spec"]  # the HPA owns it
    [worker_container] = worker["spec"]["template"]["spec"]["containers"]
    assert worker_container["command"][:2] == ["ado", "worker"]
    hpa = one(objects, "HorizontalPodAutoscaler", "ado-worker")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "ado-worker"
    job = one(objects, "Job", "ado-migration")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["ado", "db", "upgrade"]
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert hooks == ["pre-install", "pre-upgrade"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_pods_run_as_non_root_on_a_read_only_root(variant: str) -> None:
    for name, spec in pod_specs(render(VARIANTS[variant])):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert container["resources"]["limits"]["memory"], name
            assert container["resources"]["requests"]["cpu"], name
            # Writable HOME and /tmp under the read-only root (agents write their state there).
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert {"/home/ado", "/tmp"} <= mounts, name


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_secret_key_a_pod_reads_exists(variant: str) -> None:
    values = VARIANTS[variant]
    objects = render(values)
    secrets = {s["metadata"]["name"]: s for s in by_kind(objects, "Secret")}
    for name, spec in pod_specs(objects):
        for container in spec["containers"]:
            for env in container["env"]:
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    continue
                if ref["name"] == values.get("existingSecret"):
                    continue  # the operator's own Secret
                assert ref["name"] in secrets, (name, ref)
                assert ref["key"] in secrets[ref["name"]]["stringData"], (name, ref)


@pytest.mark.parametrize("variant", VARIANTS)
def test_hooks_reference_only_what_exists_before_the_release(variant: str) -> None:
    """A pre-install hook runs before the release's own objects are created: the migration
    Job may only use earlier hooks (a lower weight) or objects made outside the chart."""
    values = VARIANTS[variant]
    objects = render(values)
    job = one(objects, "Job", "ado-migration")
    weight = hook_weight(job)
    assert weight is not None
    earlier_hooks = {
        (o["kind"], o["metadata"]["name"])
        for o in objects
        if (w := hook_weight(o)) is not None and w < weight
    }
    spec = job["spec"]["template"]["spec"]
    assert "serviceAccountName" not in spec  # the chart's account is not there yet
    for container in spec["containers"]:
        for env in container["env"]:
            ref = env["valueFrom"]["secretKeyRef"]
            outside = ref["name"] == values.get("existingSecret")
            assert outside or ("Secret", ref["name"]) in earlier_hooks, ref
    for volume in spec["volumes"]:
        assert set(volume) == {"name", "emptyDir"}, volume


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "database.url is required"),
        (merged(database={"url": "sqlite:///state.db"}), "must be a PostgreSQL URL"),
        (merged(broker={"url": ""}), "broker.url is required while worker.enabled"),
        (merged(secretKey="short"), "secretKey is required"),
    ],
)
def test_missing_or_unusable_settings_fail_with_the_fix(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(helm.HelmRenderError, match=message):
        render(values)


def test_the_values_schema_refuses_a_wrong_type_and_a_misspelt_key() -> None:
    with pytest.raises(helm.HelmValuesError, match="/api/replicas"):
        render(merged(api={"replicas": "two"}))
    with pytest.raises(helm.HelmValuesError, match="ingres"):
        render(merged(ingres=INGRESS))


def test_one_api_pod_gets_no_disruption_budget_that_would_block_a_drain() -> None:
    assert by_kind(render(VARIANTS["one-api-pod"]), "PodDisruptionBudget") == []
    assert len(by_kind(render(VALUES), "PodDisruptionBudget")) == 1


def test_the_notes_tell_how_to_create_the_first_token() -> None:
    notes = helm.Chart.load(CHART).render(VALUES, name="ado", namespace="ado")
    [text] = [text for path, text in notes.items() if path.endswith("NOTES.txt")]
    assert "--image=ado:0.1.0" in text and "ado tokens create admin" in text
    assert "svc/ado 8080:80" in text


def test_the_configuration_follows_the_executor() -> None:
    def config(values: dict[str, Any]) -> dict[str, Any]:
        configmap = one(render(values), "ConfigMap", "ado")
        loaded: dict[str, Any] = YAML(typ="safe").load(configmap["data"]["ado.config.yaml"])
        return loaded

    assert config(VALUES)["orchestration"] == {"executor": "celery", "maxParallelAgents": 4}
    local = config(VARIANTS["no-workers"])
    assert local["orchestration"]["executor"] == "local"
    assert local["server"] == {"publicMetrics": False}
    names = {o["metadata"]["name"] for o in render(VARIANTS["no-workers"])}
    assert "ado-worker" not in names


def test_the_rendered_configuration_is_a_valid_ado_config() -> None:
    from ado.config.schema import AdoConfig, OrchestrationConfig

    if "executor" not in OrchestrationConfig.model_fields:
        pytest.skip("orchestration.executor comes with the Celery executor (issue 12)")
    configmap = one(render(VALUES), "ConfigMap", "ado")
    AdoConfig.model_validate(YAML(typ="safe").load(configmap["data"]["ado.config.yaml"]))
