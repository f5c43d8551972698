"""The ``profilespawner`` command: argument parsing and printing, nothing else.

``validate`` checks profile files and ConfigMap manifests
(:mod:`profilespawner.check`), ``render`` prints the pod a user would get and
``explain`` why (:mod:`profilespawner.preview`, :mod:`profilespawner.explain`),
``schema`` prints the JSON Schema. Exit status: 0 when all is well, 1 when a
file is invalid or the spawn would fail, 2 for a usage error (including a
``--config`` that cannot be loaded). Values of environment variables are not
printed unless asked for (``render --show-values``): they may be credentials.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ruamel.yaml import YAML
from traitlets import TraitError
from traitlets.config import Config

from ._version import __version__
from .apply import RESOURCE_ENV
from .check import DEFAULT_CONFIGMAP_KEY, FileReport, check_file
from .errors import ProfileError
from .explain import KUBESPAWNER, Explanation, FieldOrigin
from .model import JSON
from .validate import DEFAULT_MOUNT_PATH, load_schema

if TYPE_CHECKING:
    from .preview import Preview

__all__ = ["dump_yaml", "format_explanation", "hide_env_values", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

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


# -- parser ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="profilespawner",
        description="Check profile files and preview the pods profilespawner makes, without a cluster.",
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

    validate = commands.add_parser(
        "validate",
        parents=[files],
        help="check profile files; exit 1 if any has an error",
        description="Check profile files (or ConfigMap manifests holding profiles) and report "
        "every problem with its line. Exit 1 if any file has an error; warnings (legacy keys "
        "ignored) do not fail.",
    )
    validate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: a list of problems (severity, source, profile, field, line, column, problem, message)",
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
    from .preview import load_config_file  # imports KubeSpawner: only when needed

    try:
        return load_config_file(path)
    except Exception as e:  # anything a jupyterhub_config.py may raise
        raise _UsageError(f"cannot load {path}: {type(e).__name__}: {e}") from None


def _files(args: argparse.Namespace, config: Config | None) -> list[str]:
    from .preview import profile_files

    files = profile_files(args.files, config)
    if not files:
        raise _UsageError("no profile files: give FILE arguments, or --config with SingleuserProfiles.files")
    return files


def _check(path: str, config: Config | None) -> FileReport:
    """Check one file with the settings of ``config`` (mount path, ConfigMap key)."""
    section = config.SingleuserProfiles if config is not None else {}
    return check_file(
        path,
        default_mount_path=str(section.get("default_mount_path", DEFAULT_MOUNT_PATH)),
        configmap_key=str(section.get("configmap_key", DEFAULT_CONFIGMAP_KEY)),
    )


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


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    config = _load_config(args.config)
    files = _files(args, config)
    reports = [_check(path, config) for path in files]
    problems = [p for r in reports for p in r.problems]
    if args.format == "json":
        json.dump([p.as_dict() for p in problems], out, indent=2)
        out.write("\n")
    else:
        for report in reports:
            for problem in report.problems:
                out.write(f"{problem}\n")
            if not report.errors:
                out.write(_summary(report) + "\n")
        errors = sum(len(r.errors) for r in reports)
        warnings = sum(len(r.warnings) for r in reports)
        if errors or warnings:
            totals = f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
            out.write(f"{totals} in {_count(len(files), 'file')}\n")
    return EXIT_FAILED if any(r.errors for r in reports) else EXIT_OK


def _prepare(args: argparse.Namespace) -> tuple[list[str], Config | None] | int:
    """Config and files for render/explain; EXIT_FAILED when a file is invalid."""
    config = _load_config(args.config)
    files = _files(args, config)
    invalid = False
    for path in files:
        report = _check(path, config)
        for problem in report.problems:
            sys.stderr.write(f"{problem}\n")
        if report.errors:
            invalid = True
            sys.stderr.write(f"error: {path} is invalid: the hub would reject it and use none of it\n")
        elif report.configmap is not None:
            invalid = True
            sys.stderr.write(
                f"error: {path} is a ConfigMap manifest; give the profiles YAML of its data key "
                "(as SingleuserProfiles.files holds it)\n"
            )
    return EXIT_FAILED if invalid else (files, config)


def _preview(args: argparse.Namespace, files: list[str], config: Config | None) -> Preview | int:
    from .preview import preview_spawn

    try:
        return asyncio.run(
            preview_spawn(
                files,
                user=args.user,
                groups=args.groups,
                image=args.image,
                size=args.size,
                gpu_type=args.gpu_type,
                config=config,
            )
        )
    except ProfileError as e:
        sys.stderr.write(f"error: the hub would refuse this spawn for {args.user}: {e}\n")
        return EXIT_FAILED
    except TraitError as e:
        # traitlets ends with ", not the <type> <value>": the value may be a secret
        reason = str(e).split(", not the ", 1)[0]
        sys.stderr.write(f"error: the configuration is not valid: {reason}\n")
        return EXIT_FAILED


def cmd_render(args: argparse.Namespace, out: TextIO) -> int:
    prepared = _prepare(args)
    if isinstance(prepared, int):
        return prepared
    preview = _preview(args, *prepared)
    if isinstance(preview, int):
        return preview
    pod = preview.pod if args.show_values else hide_env_values(preview.pod)
    out.write(dump_yaml(pod))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    prepared = _prepare(args)
    if isinstance(prepared, int):
        return prepared
    preview = _preview(args, *prepared)
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
    except BrokenPipeError:
        # the reader went away (| head): not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    return EXIT_USAGE  # pragma: no cover - parser.error exits
