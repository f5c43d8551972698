"""``profilespawner validate`` holds sources to the hub's policy, through the real
entry point: the defaults without ``--config``, its settings with it."""

from __future__ import annotations

from collections.abc import Callable

from tests.support import RunCli

NODE_ROOT = """\
profiles:
- name: Node root
  volumes:
  - name: node
    hostPath: {path: /}
"""


def test_validate_rejects_host_path_unless_config_allows_it(
    run_cli: RunCli, write_yaml: Callable[..., str]
) -> None:
    profiles = write_yaml(NODE_ROOT)
    rejected = run_cli("validate", profiles)
    assert (rejected.returncode, rejected.stderr) == (1, "")
    assert rejected.stdout.splitlines() == [
        f"{profiles}:5:5: error: profile 'Node root': volumes[0].hostPath: volume type 'hostPath' is not "
        "allowed by SingleuserProfiles.allowed_volume_types",
        "1 error, 0 warnings in 1 file",
    ]
    config = write_yaml(
        'c = get_config()  # noqa: F821\nc.SingleuserProfiles.allowed_volume_types.append("hostPath")\n',
        "jupyterhub_config.py",
    )
    allowed = run_cli("validate", "--config", config, profiles)
    assert (allowed.returncode, allowed.stdout, allowed.stderr) == (
        0,
        f"{profiles}: ok (1 profile, 0 sizes, 0 GPU types)\n",
        "",
    )
