"""profilespawner.httperrors: refusals as the HTTP errors JupyterHub answers with."""

from __future__ import annotations

import logging

import pytest
from tornado import web

from profilespawner.errors import (
    BudgetExceededError,
    ConfigMapsUnavailableError,
    MountConflictError,
    ProfileSpawnError,
    ResourceConflictError,
    UsageUnknownError,
    UserOptionError,
)
from profilespawner.httperrors import refusals_as_http_errors

LOG = logging.getLogger("profilespawner.test")


@pytest.mark.parametrize(
    ("error", "status", "shown"),
    [
        (UserOptionError("size 'XL' is not available; choose one of: 'Default'", field="size"), 400,
         "size: size 'XL' is not available; choose one of: 'Default'"),
        # the profiles contradict each other or KubeSpawner: the request is fine, the
        # profiles cannot serve it (an administrator fixes them, or the user picks another size)
        (ResourceConflictError("the request of 'cpu' ends up above its limit", field="resources"), 409,
         "resources: the request of 'cpu' ends up above its limit"),
        (MountConflictError("volume 'a' (profile 'x') and volume 'b' (profile 'y') are mounted at one path",
                            field="volumes"), 409,
         "volumes: volume 'a' (profile 'x') and volume 'b' (profile 'y') are mounted at one path"),
        (ConfigMapsUnavailableError("Cannot list the profile ConfigMaps in namespace 'hub'"), 503,
         "Server profiles cannot be read from Kubernetes right now. Please try again in a minute."),
        (BudgetExceededError("allows 8 GPUs for everyone it covers; 8 in use",
                             budget="ds", scope="total", key="gpu", limit="8", in_use="8", asked="2"), 403,
         "budget 'ds': total.gpu: allows 8 GPUs for everyone it covers; 8 in use"),
        (UsageUnknownError("the hub could not list the notebook pods within 30 seconds"), 503,
         "The hub cannot count the servers its budgets hold right now; please try again in a minute."),
    ],
)  # fmt: skip
def test_refusals_become_their_http_error(
    error: Exception, status: int, shown: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(web.HTTPError) as info, refusals_as_http_errors(LOG, "alice"):
        raise error
    assert info.value.status_code == status
    assert info.value.__cause__ is error
    assert info.value.jupyterhub_message == shown  # what the page and the REST API show
    assert str(error) in str(info.value)  # what the hub's log shows
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    refused = not isinstance(error, ConfigMapsUnavailableError)  # the ConfigMap source has logged why
    assert warned == ([f"Refusing to spawn for alice: {error}"] if refused else [])


def test_other_errors_pass_unchanged() -> None:
    error = ProfileSpawnError("something no refusal covers")
    with pytest.raises(ProfileSpawnError) as info, refusals_as_http_errors(LOG, "alice"):
        raise error
    assert info.value is error
