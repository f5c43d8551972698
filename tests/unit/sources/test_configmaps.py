"""The ConfigMap source without a cluster: the cache's bookkeeping, events fed by
hand. Where a ConfigMap holds its YAML and in which order ConfigMaps apply is
in test_documents.py, its settings in tests/unit/test_profiles.py; what needs a
real API server (list, watch, recovery, RBAC) in tests/integration/test_configmaps.py."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from profilespawner.sources import kubeapi
from profilespawner.sources.configmaps import ConfigMapSource

KEY = "jupyterhub-singleuser-profiles.yaml"
SOURCE = "hub/profiles"


def configmap(name: str = "profiles", rv: str = "1", **fields: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "hub", "resourceVersion": rv}, **fields}


def profiles_yaml(*names: str, env: str = "") -> str:
    items = "".join(
        f"- name: {n}\n" + (f"  env: [{{name: WHO, value: {env}}}]\n" if env else "") for n in names
    )
    return "profiles:\n" + items


# -- the cache's bookkeeping (events fed by hand; the watch itself is integration) --


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    caplog.set_level(logging.DEBUG, logger="test.configmaps")
    return logging.getLogger("test.configmaps")


@pytest.fixture
async def source(log: logging.Logger) -> ConfigMapSource:
    # No API client: these tests never start the watch.
    return ConfigMapSource(
        None, namespace="hub", configmap_name="main", label_selector="team", key=KEY, log=log
    )


def event(kind: str, name: str, rv: str, text: str | None = None) -> kubeapi.WatchEvent:
    fields = {"data": {KEY: text}} if text is not None else {"data": None}
    return kubeapi.WatchEvent(kind, configmap(name, rv, **fields))


def names(source: ConfigMapSource) -> list[list[str]]:
    return [[p.name for p in s.profiles] for s in source.snapshot()]


async def test_named_and_labelled_is_parsed_once_at_the_named_position(
    source: ConfigMapSource, caplog: pytest.LogCaptureFixture
) -> None:
    named, labelled = source._named, source._labelled
    assert named is not None and labelled is not None
    await source._replace(named, [configmap("main", "5", data={KEY: profiles_yaml("m")})])
    await source._replace(
        labelled,
        [
            configmap("b", "3", data={KEY: profiles_yaml("b")}),
            configmap("main", "5", data={KEY: profiles_yaml("m")}),
            configmap("a", "4", data={KEY: profiles_yaml("a")}),
        ],
    )
    assert source.order() == ["hub/main", "hub/a", "hub/b"]
    assert names(source) == [["m"], ["a"], ["b"]]
    assert sum("Loaded profile source hub/main (version 5)" in r.message for r in caplog.records) == 1


async def test_label_removed_from_the_named_one_keeps_it(source: ConfigMapSource) -> None:
    named, labelled = source._named, source._labelled
    assert named is not None and labelled is not None
    await source._replace(named, [configmap("main", "5", data={KEY: profiles_yaml("m")})])
    await source._replace(labelled, [configmap("main", "5", data={KEY: profiles_yaml("m")})])
    await source._apply(labelled, event("DELETED", "main", "6", profiles_yaml("m")))
    assert names(source) == [["m"]]
    await source._apply(named, event("DELETED", "main", "7", profiles_yaml("m")))
    assert names(source) == []
    assert "hub/main" not in source.book.states


async def test_invalid_edit_keeps_last_valid_and_logs_once_per_version(
    source: ConfigMapSource, caplog: pytest.LogCaptureFixture
) -> None:
    labelled = source._labelled
    assert labelled is not None
    await source._apply(labelled, event("ADDED", "a", "1", profiles_yaml("good")))
    bad = "profiles: [{name: bad, resouces: {}}]"
    await source._apply(labelled, event("MODIFIED", "a", "2", bad))
    await source._replace(labelled, [configmap("a", "2", data={KEY: bad})])  # a relist: same version
    assert names(source) == [["good"]]
    rejected = [r for r in caplog.records if "Rejected profile source hub/a" in r.message]
    assert len(rejected) == 1 and rejected[0].levelno == logging.ERROR
    assert "keeping its last valid version" in rejected[0].message
    await source._apply(labelled, event("MODIFIED", "a", "3", None))  # data removed
    assert names(source) == [["good"]]
    assert "data: the ConfigMap has no data" in caplog.records[-1].message


# Each of these once crashed the validator (AttributeError, decimal.InvalidOperation,
# ValueError): the watch caught it, listed again, met the same ConfigMap and
# looped forever, and no later edit of any ConfigMap applied.
CRASHERS = [
    "profiles: [{name: c, resources: {requests: {1: 2}}}]",
    "profiles: [{name: c, resources: {requests: {memory: '1e99999999999'}}}]",
    "profiles: [{name: c, labels: {null: x}}]",
    "profiles: [{name: c, env: {BUILD_DATE: 2024-02-30}}]",
]


@pytest.mark.parametrize("text", CRASHERS)
async def test_a_configmap_that_crashed_the_validator_is_rejected_once(
    source: ConfigMapSource, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    labelled = source._labelled
    assert labelled is not None
    items = [
        configmap("a", "1", data={KEY: profiles_yaml("a")}),
        configmap("b", "2", data={KEY: text}),
        configmap("c", "3", data={KEY: profiles_yaml("c")}),
    ]
    for _ in range(3):  # the first list, then relists (after a watch error, say)
        await source._replace(labelled, items)
    assert names(source) == [["a"], ["c"]]
    rejected = [r for r in caplog.records if "Rejected profile source hub/b" in r.getMessage()]
    assert len(rejected) == 1 and rejected[0].levelno == logging.ERROR
    await source._apply(labelled, event("MODIFIED", "c", "4", profiles_yaml("c2")))
    assert names(source) == [["a"], ["c2"]]


async def test_a_validator_bug_is_logged_once_with_its_traceback_not_its_message(
    source: ConfigMapSource, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from profilespawner.parse import _Checker

    works = _Checker._labels

    def broken(self: Any, labels: dict[str, str], path: list[str | int]) -> Any:
        if labels:
            raise ValueError(f"bad label {labels}")  # a bug, quoting what it met
        return works(self, labels, path)

    monkeypatch.setattr(_Checker, "_labels", broken)
    labelled = source._labelled
    assert labelled is not None
    items = [
        configmap("a", "1", data={KEY: "profiles: [{name: a, labels: {team: hunter2}}]"}),
        configmap("b", "2", data={KEY: profiles_yaml("b")}),
    ]
    await source._replace(labelled, items)
    await source._replace(labelled, items)
    assert names(source) == [["b"]]
    (record,) = [r for r in caplog.records if "Rejected profile source hub/a" in r.getMessage()]
    message = record.getMessage()
    assert "ValueError in the validator" in message
    assert "in broken\n" in message and "ValueError (message not shown)" in message
    assert all("hunter2" not in r.getMessage() and r.exc_info is None for r in caplog.records)


async def test_a_late_event_never_brings_an_older_version_back(source: ConfigMapSource) -> None:
    named, labelled = source._named, source._labelled
    assert named is not None and labelled is not None
    await source._replace(named, [configmap("main", "5", data={KEY: profiles_yaml("v5")})])
    await source._replace(labelled, [configmap("main", "5", data={KEY: profiles_yaml("v5")})])
    # Edited (rv6), then edited again with the label removed (rv7). The named
    # watch sees both edits first; the labelled one is late with its rv6.
    await source._apply(named, event("MODIFIED", "main", "6", profiles_yaml("v6")))
    await source._apply(named, event("MODIFIED", "main", "7", profiles_yaml("v7")))
    await source._apply(labelled, event("MODIFIED", "main", "6", profiles_yaml("v6")))
    await source._apply(labelled, event("DELETED", "main", "7", profiles_yaml("v7")))
    assert names(source) == [["v7"]]
    assert source.book.states["hub/main"].version == "7"
    # A relist of the labelled watch taken before the last edit changes nothing either.
    await source._replace(labelled, [configmap("main", "6", data={KEY: profiles_yaml("v6")})])
    assert names(source) == [["v7"]]


async def test_relist_forgets_what_is_gone(source: ConfigMapSource) -> None:
    labelled = source._labelled
    assert labelled is not None
    await source._replace(
        labelled,
        [
            configmap("a", "1", data={KEY: profiles_yaml("a")}),
            configmap("b", "2", data={KEY: profiles_yaml("b")}),
        ],
    )
    await source._replace(labelled, [configmap("b", "2", data={KEY: profiles_yaml("b")})])
    assert names(source) == [["b"]]
    assert set(source.book.states) == {"hub/b"}


async def test_missing_named_configmap_is_a_debug_message(
    source: ConfigMapSource, caplog: pytest.LogCaptureFixture
) -> None:
    assert source._named is not None
    await source._replace(source._named, [])
    (record,) = [r for r in caplog.records if "hub/main" in r.message]
    assert record.levelno == logging.DEBUG
    assert "does not exist" in record.message


async def test_logs_never_show_configmap_values(
    source: ConfigMapSource, caplog: pytest.LogCaptureFixture
) -> None:
    labelled = source._labelled
    assert labelled is not None
    await source._apply(labelled, event("ADDED", "a", "1", "profiles: [{name: p, env: {TOKEN: hunter2}}], x"))
    await source._apply(labelled, event("ADDED", "b", "1", profiles_yaml("p", env="hunter2")))
    assert caplog.records
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


async def test_source_needs_something_to_read(log: logging.Logger) -> None:
    with pytest.raises(ValueError, match="configmap_name or a label_selector"):
        ConfigMapSource(None, namespace="hub", configmap_name="", label_selector="", key=KEY, log=log)


async def test_each_configmap_is_a_source_versioned_by_the_resource_version_in_use(
    source: ConfigMapSource,
) -> None:
    """SPEC §8: ``namespace/name`` at the resourceVersion whose content is in
    use -- after a rejected edit, the last valid one's."""
    named, labelled = source._named, source._labelled
    assert named is not None and labelled is not None
    await source._replace(named, [configmap("main", "5", data={KEY: profiles_yaml("m")})])
    await source._replace(labelled, [configmap("a", "7", data={KEY: profiles_yaml("a")})])
    assert [s.sources for s in source.snapshot()] == [(("hub/main", "5"),), (("hub/a", "7"),)]
    await source._apply(labelled, event("MODIFIED", "a", "9", "profiles: [{name: a, gpu: lots}]"))
    assert [s.sources for s in source.snapshot()] == [(("hub/main", "5"),), (("hub/a", "7"),)]
    await source._apply(labelled, event("MODIFIED", "a", "11", profiles_yaml("a2")))
    assert [s.sources for s in source.snapshot()] == [(("hub/main", "5"),), (("hub/a", "11"),)]
