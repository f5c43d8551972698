"""The pure parts of the API layer (:mod:`profilespawner.sources.kubeapi`): queries,
errors, watch events, the client's refusals. Its requests are tested against a
real API server in tests/integration; its tools' client in test_kubeapi_tools.py."""

from __future__ import annotations

import json

import pytest
from kubernetes_asyncio.client.rest import ApiException

from profilespawner.errors import KubeApiError, WatchExpired
from profilespawner.sources import kubeapi


def test_queries_name_their_selectors() -> None:
    named = kubeapi.ConfigMapQuery("hub", field_selector="metadata.name=main")
    labelled = kubeapi.ConfigMapQuery("hub", label_selector="a=b")
    assert named.params() == {"field_selector": "metadata.name=main"}
    assert labelled.params() == {"label_selector": "a=b"}
    assert named.describe() == "hub/configmaps?metadata.name=main"
    assert labelled.describe() == "hub/configmaps?a=b"


def test_api_errors_are_short_and_classified() -> None:
    error = kubeapi._status_error("list x", 403, b'{"kind":"Status","message":"' + b"m" * 1000 + b'"}')
    assert error.permanent and error.status == 403
    assert len(str(error)) < 300 and str(error).startswith("list x: HTTP 403: mmm")
    assert isinstance(kubeapi._status_error("watch x", 410, b"{}"), WatchExpired)
    assert not KubeApiError("list x").permanent
    assert str(KubeApiError("list x")) == "list x: no answer"


async def test_watch_error_events_raise() -> None:
    gone = b'{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}'
    with pytest.raises(WatchExpired, match="HTTP 410: too old"):
        await kubeapi._event("watch x", gone)
    with pytest.raises(KubeApiError, match="malformed watch event"):
        await kubeapi._event("watch x", b'{"type":"ADDED"}')
    bookmark = await kubeapi._event(
        "watch x", b'{"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"12"}}}'
    )
    assert (bookmark.type, bookmark.resource_version) == ("BOOKMARK", "12")


def test_the_clients_refusals_give_their_status_and_body() -> None:
    """What the spawner reads of an API server's refusal; nothing of another error."""
    refusal = ApiException(status=403, reason="Forbidden")
    refusal.body = json.dumps({"kind": "Status", "code": 403, "message": "exceeded quota"})
    assert kubeapi.api_error_answer(refusal) == (403, refusal.body)
    assert kubeapi.api_error_answer(ValueError("not the API")) is None
