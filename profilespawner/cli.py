"""The ``profilespawner`` command: argument parsing and printing, nothing else.

``validate`` checks profile files and ConfigMap manifests
(:mod:`profilespawner.tools.lint`), ``render`` prints the pod a user would get and
``explain`` why (:mod:`profilespawner.tools.preview`, :mod:`profilespawner.tools.explain`),
``schema`` prints the JSON Schema. With ``--configmaps`` the three read the
profile ConfigMaps from the cluster too, after the files, and
``validate --server-dry-run`` submits the pod of every targeted spawn as a
server-side dry run (:mod:`profilespawner.tools.cluster`, :mod:`profilespawner.tools.targets`).
Every source is held to the hub's policy (:mod:`profilespawner.policy`): that of
``--config``'s ``SingleuserProfiles`` settings, or of their defaults. Exit
status: 0 when all is well, 1 when a source is invalid, the spawn would fail,
the cluster would reject a pod or a setting of ``--config`` is invalid, 2 for a
usage error (including a ``--config`` or kubeconfig that cannot be loaded), 3
when the cluster could not be asked (no answer, credentials, RBAC). Values of environment variables are
not printed unless asked for (``render --show-values``): they may be credentials.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import io
import json
import logging
import os
import sys
import textwrap
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from ruamel.yaml import YAML
from traitlets import TraitError
from traitlets.config import Config

from ._version import __version__
from .errors import ProfileError
from .model import DEFAULT_MOUNT_PATH, JSON, RESOURCE_ENV, ProfileSet
from .parse import load_schema
from .policy import DEFAULT_POLICY, Policy
from .sources.documents import DEFAULT_CONFIGMAP_KEY
from .tools.explain import KUBESPAWNER, Explanation, FieldOrigin
from .tools.lint import FileReport, Problem, check_file

if TYPE_CHECKING:
    from .sources.kubeapi import ClusterClient
    from .tools.cluster import ClusterProfiles, Trial
    from .tools.preview import Preview

__all__ = ["dump_yaml", "format_explanation", "hide_env_values", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CLUSTER = 0, 1, 2, 3

#: Most spawns ``validate --server-dry-run`` tries unless told otherwise.
MAX_COMBINATIONS = 200

# SingleuserProfiles' defaults, for --configmaps without --config
_CONFIGMAP_DEFAULTS = {
    "configmap_name": "jupyter-singleuser-profiles",
    "label_selector": "jupyterhub=singleuser-profiles",
    "configmap_key": DEFAULT_CONFIGMAP_KEY,
}

HIDDEN = "<hidden>"

# Variables JupyterHub and KubeSpawner write themselves (a profile may not set
# them; offline their values are placeholders) or that mirror resources.
_SHOWN_ENV_PREFIXES = ("JUPYTERHUB_", "JPY_", "JUPYTER_IMAGE")

# fields whose detail is a short value (a quantity, a label value): shown before the setter
_VALUE_FIRST = frozenset({"resources", "node_selector", "labels"})

_FIELD_TITLES = {
    "env": "env (values not shown)",
    "envFrom": "envFrom",
    "resources": "resources",
    "node_tolerations": "tolerations",
    "node_affinity": "node affinity",
    "node_selector": "node selector",
    "volumes": "volumes",
    "labels": "labels",
    "annotations": "annotations (values not shown)",
}


class _UsageError(Exception):
    """Bad arguments found after parsing (exit 2)."""


class _ClusterError(Exception):
    """The cluster could not be asked (exit 3)."""


T = TypeVar("T")


# -- parser ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="profilespawner",
        description="Check profile files and ConfigMaps and preview the pods profilespawner makes.",
    )
    parser.add_argument("--version", action="version", version=f"profilespawner {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the spawner logs (INFO)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    files = argparse.ArgumentParser(add_help=False)
    files.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="profile YAML files, lowest precedence first (default: SingleuserProfiles.files of --config)",
    )
    files.add_argument(
        "--config",
        metavar="PATH",
        help="a jupyterhub_config.py: its KubeSpawner and SingleuserProfiles settings count",
    )
    cluster = files.add_argument_group(
        "profiles in the cluster",
        "read after the FILEs, as the hub reads them; defaults: the SingleuserProfiles settings "
        "of --config, else SingleuserProfiles' defaults",
    )
    cluster.add_argument(
        "--configmaps",
        action="store_true",
        help="also read the profile ConfigMaps from the cluster (named, then labelled by name)",
    )
    cluster.add_argument(
        "--namespace",
        "-n",
        metavar="NS",
        help="namespace of the ConfigMaps (and of dry-run pods); default: SingleuserProfiles.namespace "
        "or KubeSpawner.namespace of --config, else the kubeconfig context's, else 'default'",
    )
    cluster.add_argument(
        "--configmap-name",
        metavar="NAME",
        help="SingleuserProfiles.configmap_name ('' for none; default jupyter-singleuser-profiles)",
    )
    cluster.add_argument(
        "--label-selector",
        metavar="SELECTOR",
        help="SingleuserProfiles.label_selector ('' for none; default jupyterhub=singleuser-profiles)",
    )
    cluster.add_argument(
        "--key",
        metavar="KEY",
        help="SingleuserProfiles.configmap_key (default jupyterhub-singleuser-profiles.yaml)",
    )
    cluster.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="the kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or in-cluster)",
    )

    validate = commands.add_parser(
        "validate",
        parents=[files],
        help="check profile files; exit 1 if any has an error",
        description="Check profile files (or ConfigMap manifests holding profiles), and with "
        "--configmaps the profile ConfigMaps of the cluster, and report every problem with its line. "
        "Exit 1 if any has an error; warnings (legacy keys ignored) do not fail.",
    )
    validate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: a list of problems (severity, source, profile, field, line, column, problem, message)",
    )
    dry_run = validate.add_argument_group(
        "server-side dry run",
        "submit the pod of every spawn the profiles target (each listed user and group, and any "
        "user; the configured image and each --image; no size and each size) to the API server "
        "as a dry run, and report what it would reject; needs RBAC to create pods",
    )
    dry_run.add_argument(
        "--server-dry-run",
        action="store_true",
        help="try every targeted spawn against the cluster's validation and admission",
    )
    dry_run.add_argument(
        "--image",
        "-i",
        action="append",
        default=[],
        dest="images",
        metavar="IMAGE",
        help="an example image to try as well (repeat); an images pattern no tried image "
        "matches is reported as untested",
    )
    dry_run.add_argument(
        "--max-combinations",
        type=int,
        default=MAX_COMBINATIONS,
        metavar="N",
        help=f"refuse to try more spawns than this (default {MAX_COMBINATIONS})",
    )

    spawn = argparse.ArgumentParser(add_help=False, parents=[files])
    spawn.add_argument("--user", "-u", required=True, help="the JupyterHub user name")
    spawn.add_argument(
        "--group",
        "-g",
        action="append",
        default=[],
        dest="groups",
        metavar="GROUP",
        help="a JupyterHub group of the user (repeat for several)",
    )
    spawn.add_argument("--image", "-i", help="the notebook image (default: the configured/KubeSpawner one)")
    spawn.add_argument("--size", "-s", help="the size the user picks (user_options['size'])")
    spawn.add_argument("--gpu-type", help="the GPU type the user picks (user_options['gpu_type'])")

    render = commands.add_parser(
        "render",
        parents=[spawn],
        help="print the pod KubeSpawner would create, profiles applied",
        description="Print the pod KubeSpawner would create for this spawn, with profiles applied, "
        "as YAML. Exit 1 if the hub would refuse the spawn.",
    )
    render.add_argument(
        "--show-values",
        action="store_true",
        help=f"print the values of environment variables (default: {HIDDEN}, they may be secrets)",
    )
    commands.add_parser(
        "explain",
        parents=[spawn],
        help="which profiles apply to a spawn, and who set each field",
        description="Explain a spawn: which profiles apply and why, which do not and why, the size, "
        "and which profile or size set each field of the pod. Values of environment variables "
        "are never printed.",
    )
    commands.add_parser("schema", help="print the JSON Schema of the profile format")
    return parser


# -- commands -------------------------------------------------------------------------


def _load_config(path: str | None) -> Config | None:
    if path is None:
        return None
    from .tools.preview import load_config_file  # imports KubeSpawner: only when needed

    try:
        return load_config_file(path)
    except Exception as e:  # anything a jupyterhub_config.py may raise
        raise _UsageError(f"cannot load {path}: {type(e).__name__}: {e}") from None


def _files(args: argparse.Namespace, config: Config | None, *, cluster: bool = False) -> list[str]:
    from .tools.preview import profile_files

    files = profile_files(args.files, config)
    if not files and not cluster:
        raise _UsageError(
            "no profile files: give FILE arguments, or --config with SingleuserProfiles.files, "
            "or --configmaps"
        )
    return files


def _section(config: Config | None, name: str) -> Any:
    """A section of ``config`` (an empty dict when there is no config)."""
    if config is None or name not in config:
        return {}
    return config[name]


def _setting(config: Config | None, name: str) -> str:
    """A ``SingleuserProfiles`` setting of ``config``, else its default."""
    return str(_section(config, "SingleuserProfiles").get(name, _CONFIGMAP_DEFAULTS.get(name, "")))


def _configmap_key(args: argparse.Namespace, config: Config | None) -> str:
    return str(args.key) if args.key is not None else _setting(config, "configmap_key")


def _mount_path(config: Config | None) -> str:
    return str(_section(config, "SingleuserProfiles").get("default_mount_path", DEFAULT_MOUNT_PATH))


def _policy(config: Config | None) -> Policy:
    """What the hub lets a profile source ask for: the ``SingleuserProfiles``
    settings of ``config``, read and checked by the traits themselves; without
    a config, their defaults. Raises ``TraitError`` for an invalid setting."""
    if config is None:
        return DEFAULT_POLICY
    from .profiles import SingleuserProfiles  # imports KubeSpawner: --config loaded it already

    return SingleuserProfiles(config=config).policy


def _check(path: str, config: Config | None, args: argparse.Namespace, policy: Policy) -> FileReport:
    """Check one file as the hub would: the settings of ``config`` (mount path,
    policy) and the ConfigMap key."""
    key = _configmap_key(args, config)
    return check_file(path, default_mount_path=_mount_path(config), configmap_key=key, policy=policy)


@dataclass(frozen=True)
class _ClusterSettings:
    """Where the cluster's profiles are, from the arguments and ``--config``."""

    kubeconfig: str | None
    namespace: str  # "" = the kubeconfig context's, else "default"
    configmap_name: str
    label_selector: str
    key: str
    read_configmaps: bool


def _cluster_settings(args: argparse.Namespace, config: Config | None) -> _ClusterSettings | None:
    """The cluster settings, or None when the command does not talk to a cluster."""
    dry_run = bool(getattr(args, "server_dry_run", False))
    if not args.configmaps:
        for option, value in (
            ("--configmap-name", args.configmap_name),
            ("--label-selector", args.label_selector),
        ):
            if value is not None:
                raise _UsageError(f"{option} needs --configmaps")
        if not dry_run:
            for option, value in (("--namespace", args.namespace), ("--kubeconfig", args.kubeconfig)):
                if value is not None:
                    hint = " or --server-dry-run" if args.command == "validate" else ""
                    raise _UsageError(f"{option} needs --configmaps{hint}")
            return None
    name = args.configmap_name if args.configmap_name is not None else _setting(config, "configmap_name")
    selector = args.label_selector if args.label_selector is not None else _setting(config, "label_selector")
    if args.configmaps and not (name or selector):
        raise _UsageError(
            "--configmaps: nothing to read, the ConfigMap name and the label selector are both empty"
        )
    spawner_namespace = _section(config, "ProfileKubeSpawner").get(
        "namespace", _section(config, "KubeSpawner").get("namespace", "")
    )
    namespace = args.namespace or _setting(config, "namespace") or str(spawner_namespace)
    return _ClusterSettings(
        kubeconfig=args.kubeconfig,
        namespace=namespace,
        configmap_name=name,
        label_selector=selector,
        key=_configmap_key(args, config),
        read_configmaps=args.configmaps,
    )


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that talks to the cluster; its failures become exit statuses."""
    from .errors import KubeApiError, KubeConfigError

    try:
        return asyncio.run(coroutine)
    except KubeConfigError as e:
        raise _UsageError(str(e)) from None
    except KubeApiError as e:
        raise _ClusterError(str(e)) from None


async def _connect(settings: _ClusterSettings) -> tuple[ClusterClient, str]:
    """A client and the namespace to use."""
    from .sources.kubeapi import connect

    client = await connect(settings.kubeconfig)
    return client, settings.namespace or client.namespace or "default"


async def _read_configmaps(
    client: ClusterClient, namespace: str, settings: _ClusterSettings, config: Config | None, policy: Policy
) -> ClusterProfiles:
    from .tools.cluster import read_configmaps

    return await read_configmaps(
        client.api,
        namespace=namespace,
        configmap_name=settings.configmap_name,
        label_selector=settings.label_selector,
        key=settings.key,
        default_mount_path=_mount_path(config),
        policy=policy,
    )


def _cluster_config(config: Config | None, namespace: str) -> Config:
    """``config`` with KubeSpawner's namespace set to ``namespace`` unless it sets one."""
    cfg = copy.deepcopy(config) if config is not None else Config()
    if "namespace" not in _section(cfg, "KubeSpawner") and "namespace" not in _section(
        cfg, "ProfileKubeSpawner"
    ):
        cfg.KubeSpawner.namespace = namespace
    return cfg


def _summary(report: FileReport) -> str:
    ps = report.profile_set
    assert ps is not None
    parts = [
        _count(len(ps.profiles), "profile"),
        _count(len(ps.sizes), "size"),
        _count(len(ps.gpu_types), "GPU type"),
    ]
    what = f", ConfigMap {report.configmap!r}" if report.configmap is not None else ""
    return f"{report.source}: ok{what} ({', '.join(parts)})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# -- validate ---------------------------------------------------------------------------


@dataclass
class _ClusterCheck:
    """What ``validate`` found in the cluster."""

    namespace: str
    configmaps: ClusterProfiles | None = None
    trials: list[Trial] | None = None
    untested: list[Problem] | None = None
    skipped: bool = False  # the dry run was not tried: a source is invalid


async def _validate_in_cluster(
    args: argparse.Namespace,
    settings: _ClusterSettings,
    config: Config | None,
    file_reports: list[FileReport],
    policy: Policy,
) -> _ClusterCheck:
    from .tools.cluster import server_dry_run
    from .tools.targets import combinations, untested_patterns

    client, namespace = await _connect(settings)
    try:
        result = _ClusterCheck(namespace)
        reports = list(file_reports)
        if settings.read_configmaps:
            result.configmaps = await _read_configmaps(client, namespace, settings, config, policy)
            reports += result.configmaps.reports
        if not args.server_dry_run:
            return result
        if any(r.errors for r in reports):
            result.skipped = True
            return result
        profile_set = ProfileSet.combine([r.profile_set for r in reports if r.profile_set is not None])
        tries = combinations(profile_set, images=args.images)
        if len(tries) > args.max_combinations:
            raise _UsageError(
                f"--server-dry-run: the profiles target {len(tries)} spawns (users and groups x images x "
                f"sizes), more than --max-combinations {args.max_combinations}; raise it, or give fewer "
                "--image examples"
            )
        result.trials = await server_dry_run(
            client.api,
            namespace=namespace,
            combinations=tries,
            profile_sets=[r.profile_set for r in reports if r.profile_set is not None],
            config=_cluster_config(config, namespace),
        )
        tried = {t.image for t in result.trials if t.image}
        result.untested = [
            Problem(
                "warning",
                _dry_run_source(namespace),
                f"pattern {pattern!r} matches none of the images tried ({', '.join(sorted(tried))}); "
                "give an --image it matches to try it",
                profile=f"profile {profile.name!r}",
                field="images",
            )
            for profile, pattern in untested_patterns(profile_set, tried)
        ]
        return result
    finally:
        await client.close()


def _dry_run_source(namespace: str) -> str:
    return f"server dry run in {namespace}"


def _trial_problems(check: _ClusterCheck) -> list[Problem]:
    source = _dry_run_source(check.namespace)
    problems = []
    for trial in check.trials or []:
        if trial.outcome == "rejected":
            problems.append(Problem("error", source, f"{trial.describe()}: rejected: {trial.detail}"))
        elif trial.outcome == "refused":
            refused = f"{trial.describe()}: the hub would refuse the spawn: {trial.detail}"
            problems.append(Problem("error", source, refused))
    return problems + list(check.untested or [])


def _trials_summary(check: _ClusterCheck) -> str:
    trials = check.trials or []
    counts = {outcome: sum(t.outcome == outcome for t in trials) for outcome in ("accepted", "rejected")}
    text = (
        f"{_dry_run_source(check.namespace)}: {_count(len(trials), 'spawn')} tried, "
        f"{counts['accepted']} accepted, {counts['rejected']} rejected"
    )
    refused = sum(t.outcome == "refused" for t in trials)
    return text + (f", {refused} refused by the hub" if refused else "")


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    if not args.server_dry_run and (args.images or args.max_combinations != MAX_COMBINATIONS):
        raise _UsageError(f"{'--image' if args.images else '--max-combinations'} needs --server-dry-run")
    config = _load_config(args.config)
    policy = _policy(config)
    settings = _cluster_settings(args, config)
    files = _files(args, config, cluster=settings is not None and settings.read_configmaps)
    reports = [_check(path, config, args, policy) for path in files]
    try:
        check = (
            _run(_validate_in_cluster(args, settings, config, reports, policy))
            if settings is not None
            else None
        )
    except TraitError as e:  # the dry run builds spawners with --config's settings
        sys.stderr.write(f"error: {_invalid_configuration(e)}\n")
        return EXIT_FAILED
    configmaps = check.configmaps if check is not None else None
    if configmaps is not None:
        reports += configmaps.reports
    dry_run = _trial_problems(check) if check is not None else []
    problems = [p for r in reports for p in r.problems] + dry_run
    failed = any(r.errors for r in reports) or any(p.severity == "error" for p in dry_run)
    if args.format == "json":
        json.dump([p.as_dict() for p in problems], out, indent=2)
        out.write("\n")
        return EXIT_FAILED if failed else EXIT_OK
    for report in reports[: len(files)]:
        _write_report(report, out)
    if configmaps is not None:
        if configmaps.missing:
            out.write(f"{configmaps.namespace}/{configmaps.missing}: no such ConfigMap (the hub skips it)\n")
        if not configmaps.reports:
            out.write(f"{configmaps.namespace}: no profile ConfigMaps\n")
        for report in configmaps.reports:
            _write_report(report, out)
    if check is not None and check.skipped:
        out.write(f"{_dry_run_source(check.namespace)}: not tried, the profiles have errors\n")
    elif check is not None and check.trials is not None:
        for problem in dry_run:
            out.write(f"{problem}\n")
        out.write(_trials_summary(check) + "\n")
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors or warnings:
        where = [_count(len(files), "file")] if files or configmaps is None else []
        if configmaps is not None:
            where.append(_count(len(configmaps.reports), "ConfigMap"))
        if dry_run:
            where.append("the server dry run")
        out.write(f"{_count(errors, 'error')}, {_count(warnings, 'warning')} in {_join(where)}\n")
    return EXIT_FAILED if failed else EXIT_OK


def _write_report(report: FileReport, out: TextIO) -> None:
    for problem in report.problems:
        out.write(f"{problem}\n")
    if not report.errors:
        out.write(_summary(report) + "\n")


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# -- render and explain -----------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """The valid profile sets of a spawn, in precedence order, and the hub settings."""

    config: Config | None
    profile_sets: tuple[ProfileSet, ...]


async def _read_for_spawn(
    settings: _ClusterSettings, config: Config | None, policy: Policy
) -> ClusterProfiles:
    client, namespace = await _connect(settings)
    try:
        return await _read_configmaps(client, namespace, settings, config, policy)
    finally:
        await client.close()


def _prepare(args: argparse.Namespace) -> _Prepared | int:
    """Config and profile sets for render/explain; EXIT_FAILED when a source is invalid."""
    config = _load_config(args.config)
    policy = _policy(config)
    settings = _cluster_settings(args, config)
    files = _files(args, config, cluster=settings is not None)
    invalid = False
    reports = []
    for path in files:
        report = _check(path, config, args, policy)
        reports.append(report)
        for problem in report.problems:
            sys.stderr.write(f"{problem}\n")
        if report.errors:
            invalid = True
            sys.stderr.write(f"error: {path} is invalid: the hub would reject it and use none of it\n")
        elif report.configmap is not None:
            invalid = True
            sys.stderr.write(
                f"error: {path} is a ConfigMap manifest; give the profiles YAML of its data key "
                "(as SingleuserProfiles.files holds it), or read the cluster's with --configmaps\n"
            )
    if settings is not None:
        configmaps = _run(_read_for_spawn(settings, config, policy))
        config = _cluster_config(config, configmaps.namespace)
        for report in configmaps.reports:
            reports.append(report)
            for problem in report.problems:
                sys.stderr.write(f"{problem}\n")
            if report.errors:
                invalid = True
                sys.stderr.write(
                    f"error: ConfigMap {report.source} is invalid: the hub rejects it "
                    "(and keeps its last valid version, which this command cannot know)\n"
                )
    if invalid:
        return EXIT_FAILED
    return _Prepared(config, tuple(r.profile_set for r in reports if r.profile_set is not None))


def _preview(args: argparse.Namespace, prepared: _Prepared) -> Preview | int:
    from .tools.preview import preview_spawn

    try:
        return asyncio.run(
            preview_spawn(
                (),
                user=args.user,
                groups=args.groups,
                image=args.image,
                size=args.size,
                gpu_type=args.gpu_type,
                config=prepared.config,
                profile_sets=prepared.profile_sets,
            )
        )
    except ProfileError as e:
        sys.stderr.write(f"error: the hub would refuse this spawn for {args.user}: {e}\n")
        return EXIT_FAILED
    except TraitError as e:
        sys.stderr.write(f"error: {_invalid_configuration(e)}\n")
        return EXIT_FAILED


def _invalid_configuration(error: TraitError) -> str:
    # traitlets ends with ", not the <type> <value>": the value may be a secret
    reason = str(error).split(", not the ", 1)[0]
    return f"the configuration is not valid: {reason}"


def cmd_render(args: argparse.Namespace, out: TextIO) -> int:
    prepared = _prepare(args)
    if isinstance(prepared, int):
        return prepared
    preview = _preview(args, prepared)
    if isinstance(preview, int):
        return preview
    pod = preview.pod if args.show_values else hide_env_values(preview.pod)
    out.write(dump_yaml(pod))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    prepared = _prepare(args)
    if isinstance(prepared, int):
        return prepared
    preview = _preview(args, prepared)
    if isinstance(preview, int):
        return preview
    out.write(format_explanation(preview.explanation))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    json.dump(load_schema(), out, indent=2)
    out.write("\n")
    return EXIT_OK


# -- printing -------------------------------------------------------------------------


def hide_env_values(pod: JSON) -> JSON:
    """``pod`` with every env ``value`` replaced by ``<hidden>``, except JupyterHub's own."""
    pod = json.loads(json.dumps(pod))
    spec = pod.get("spec") or {}
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for var in container.get("env") or []:
            name = var.get("name", "")
            shown = name in RESOURCE_ENV or name.startswith(_SHOWN_ENV_PREFIXES)
            if "value" in var and not shown:
                var["value"] = HIDDEN
    return pod


def dump_yaml(data: Any) -> str:
    """YAML as ``kubectl get -o yaml`` prints it: block style, sorted keys, and
    strings quoted wherever YAML 1.1 (kubectl's parser) would read them otherwise."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.version = (1, 1)  # quote 'yes', 'on', '0777', ... as kubectl does
    yaml.width = 4096
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    text = buffer.getvalue()
    # version=(1, 1) also writes a '%YAML 1.1' directive, which kubectl never prints
    if text.startswith("%YAML"):
        text = text.split("\n---", 1)[1].lstrip("\n ")
    return text


def _applies(ok: bool) -> str:
    return "yes," if ok else "no, "


def format_explanation(explanation: Explanation) -> str:
    """The explanation as a terminal report; no env values, ever."""
    e = explanation
    lines = [f"User:   {e.user}"]
    lines.append(f"Groups: {', '.join(e.groups) if e.groups else '(none)'}")
    lines.append(f"Image:  {e.image}")
    lines.append("")
    lines.append("Profiles, in the order they apply (+ applies, - does not):")
    if not e.verdicts:
        lines.append("  (no profiles are defined)")
    for v in e.verdicts:
        lines.append(f"  {'+' if v.applies else '-'} {v.label}  [{v.source}]")
        lines.append(f"      who:   {_applies(v.who_ok)} {v.who}")
        lines.append(f"      image: {_applies(v.image_ok)} {v.image}")
    lines.append("")
    if e.size is None:
        lines.append("Size:   none (Default), so the profiles alone decide")
    else:
        lines.append(f"Size:   {e.size!r} [{e.size_source}], applied after the profiles")
    lines.append(f"        {e.user} may pick: {', '.join(e.allowed_sizes)}")
    if e.gpu:
        types = ", ".join(repr(t) for t in e.gpu_types) or "none defined"
        lines.append(f"GPU:    {e.gpu}, set by {e.gpu_set_by}; tolerations of gpuTypes: {types}")
    elif e.gpu == 0:
        lines.append(f"GPU:    0, set by {e.gpu_set_by} (any GPU resource is removed)")
    else:
        lines.append("GPU:    none requested by a profile or size")
    lines.append("")
    lines.append("What the notebook pod gets, and who set it:")
    for field, title in _FIELD_TITLES.items():
        origins = e.of(field)
        if not origins:
            continue
        lines.append(f"  {title}")
        if field == "env":
            lines.extend(_env_lines(origins))
        else:
            lines.extend(_table(origins, value_first=field in _VALUE_FIRST))
    return "\n".join(lines) + "\n"


def _env_lines(origins: Sequence[FieldOrigin]) -> list[str]:
    own = [o for o in origins if o.set_by != KUBESPAWNER or o.replaced]
    kubespawner = [o.key for o in origins if o.set_by == KUBESPAWNER and not o.replaced]
    lines = _table(own)
    if kubespawner:
        text = f"and {len(kubespawner)} from {KUBESPAWNER} and JupyterHub: " + ", ".join(kubespawner)
        lines.extend(textwrap.wrap(text, width=100, initial_indent="    ", subsequent_indent="      "))
    return lines


def _replaces(origin: FieldOrigin) -> str:
    return f" (replaces {', '.join(origin.replaced)})" if origin.replaced else ""


def _table(origins: Sequence[FieldOrigin], *, value_first: bool = False) -> list[str]:
    """Aligned rows: key, who set it, what it is (a quantity or label value
    right after the key when ``value_first``; never an env value)."""
    if not origins:
        return []
    key_width = min(max(len(o.key) for o in origins), 40)
    setters = [f"<- {o.set_by}{_replaces(o)}" for o in origins]
    rows = []
    if value_first:
        detail_width = max(len(o.detail) for o in origins)
        for o, setter in zip(origins, setters, strict=True):
            detail = f"{o.detail:<{detail_width}}  " if detail_width else ""
            rows.append(f"    {o.key:<{key_width}}  {detail}{setter}")
    else:
        setter_width = min(max(len(s) for s in setters), 60)
        for o, setter in zip(origins, setters, strict=True):
            rows.append(f"    {o.key:<{key_width}}  {setter:<{setter_width}}  {o.detail}".rstrip())
    return rows


# -- entry point ----------------------------------------------------------------------

_COMMANDS = {
    "validate": cmd_validate,
    "render": cmd_render,
    "explain": cmd_explain,
    "schema": cmd_schema,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s: %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # The files' problems and a refused spawn are printed once, by us; the
        # spawner's own log lines ("traitlets" is KubeSpawner's logger) would repeat them.
        logging.getLogger("profilespawner").setLevel(logging.ERROR)
        logging.getLogger("traitlets").setLevel(logging.ERROR)
    try:
        return _COMMANDS[args.command](args, sys.stdout)
    except _UsageError as e:
        parser.error(str(e))
    except _ClusterError as e:
        sys.stderr.write(f"error: cannot ask the cluster: {e}\n")
        return EXIT_CLUSTER
    except TraitError as e:  # a setting of --config the hub would refuse too
        sys.stderr.write(f"error: {_invalid_configuration(e)}\n")
        return EXIT_FAILED
    except BrokenPipeError:
        # the reader went away (| head): not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    return EXIT_USAGE  # pragma: no cover - parser.error exits
