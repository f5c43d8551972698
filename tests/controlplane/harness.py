"""A real Kubernetes control plane for the integration and end-to-end tests.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler, built from
pinned Go modules by ``tests/controlplane/build.sh`` (see
``tests/controlplane/README.md``); this module only starts and stops them.
Nothing here is a fake: every request goes to a real ``kube-apiserver`` backed
by a real ``etcd``; the scheduler binds pods to Nodes, the controller-manager's
quota controller fills in ResourceQuota status and its namespace controller
empties and removes deleted namespaces. The scheduler and the
controller-manager authenticate with client certificates of their own
(``system:kube-scheduler``, ``system:kube-controller-manager``) and get the
rights RBAC's bootstrap policy gives those users, as in a kubeadm cluster.
There are no Nodes until something registers them (``tests/e2e/kubelet.py``);
until then pods stay ``Pending`` (``FailedScheduling``).

Usage (scripts and pytest alike)::

    from tests.controlplane.harness import ControlPlane, find_binaries

    with ControlPlane(workdir=path) as cp:
        cp.kubeconfig_path            # admin kubeconfig (group system:masters)
        cp.write_client_kubeconfig(p, user="system:node:n1", groups=["system:nodes"])
        cp.create_namespace("demo")
        token = cp.service_account_token("demo", "reader", rules=[...])
        status, body = cp.request("GET", "/api/v1/namespaces/demo/configmaps", token=token)

Existing clusters: ``ControlPlane.from_kubeconfig(path)`` wraps a cluster you
already run (the pytest fixtures do this when ``PROFILESPAWNER_TEST_KUBECONFIG``
is set). Plain ``KUBECONFIG`` is never read automatically.

Only the standard library is needed when the ``openssl`` CLI is installed;
otherwise the ``cryptography`` package is used to make the certificates.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BINARY_NAMES",
    "BUILD_HINT",
    "COMPONENTS",
    "CONTROLLERS",
    "Binaries",
    "ControlPlane",
    "ControlPlaneError",
    "NotRestartable",
    "cache_dir",
    "find_binaries",
    "missing_binaries",
    "read_versions",
]

HERE = Path(__file__).resolve().parent
VERSIONS_FILE = HERE / "versions.env"
BUILD_HINT = "build them with `bash tests/controlplane/build.sh` (needs Go >= 1.26)"

ADMIN_USER = "profilespawner-admin"
FIELD_MANAGER = "profilespawner-tests"

#: What build.sh builds; find_binaries() wants every one of them.
BINARY_NAMES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd")

#: The components started after kube-apiserver, with the user each one is (the
#: bootstrap RBAC policy binds exactly these names to their ClusterRoles).
COMPONENTS = {
    "kube-controller-manager": "system:kube-controller-manager",
    "kube-scheduler": "system:kube-scheduler",
}

#: The controllers kube-controller-manager runs (see tests/controlplane/README.md for why these):
#: quota status, deleted namespaces emptied and removed, Nodes marked NotReady when
#: their heartbeats stop, PersistentVolumeClaims bound to PersistentVolumes.
CONTROLLERS = ("resourcequota", "namespace", "nodelifecycle", "persistentvolume-binder")


class ControlPlaneError(RuntimeError):
    """The control plane could not be started or did not answer as expected."""


class NotRestartable(ControlPlaneError):
    """Raised by kill/restart helpers when wrapping an existing cluster."""


# --------------------------------------------------------------------------
# versions, cache path and binaries
# --------------------------------------------------------------------------


def read_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """Parse ``versions.env`` (``KEY=VALUE`` lines, ``#`` comments)."""
    versions: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        versions[key.strip()] = value.strip().strip("\"'")
    for key in ("KUBERNETES_VERSION", "ETCD_VERSION"):
        if key not in versions:
            raise ControlPlaneError(f"{path} does not define {key}")
    return versions


def cache_dir() -> Path:
    """The directory build.sh puts the binaries in (same formula as build.sh)."""
    v = read_versions()
    root = os.environ.get("PROFILESPAWNER_CACHE") or str(Path.home() / ".cache" / "profilespawner")
    return Path(root) / "controlplane" / f"{v['KUBERNETES_VERSION']}-etcd{v['ETCD_VERSION']}"


@dataclass(frozen=True)
class Binaries:
    directory: Path
    kube_apiserver: Path
    etcd: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubectl: Path

    def of(self, name: str) -> Path:
        """The path of the binary called ``name`` (``kube-scheduler``, ...)."""
        return Path(getattr(self, name.replace("-", "_")))


def binaries_dir() -> Path:
    """``$PROFILESPAWNER_CONTROLPLANE_DIR`` if set, else :func:`cache_dir`."""
    override = os.environ.get("PROFILESPAWNER_CONTROLPLANE_DIR")
    return Path(override) if override else cache_dir()


def missing_binaries(directory: Path | None = None) -> list[str]:
    """The names of :data:`BINARY_NAMES` not found (executable) in ``directory``
    (default: :func:`binaries_dir`)."""
    directory = binaries_dir() if directory is None else directory
    return [
        name
        for name in BINARY_NAMES
        if not ((directory / name).is_file() and os.access(directory / name, os.X_OK))
    ]


def find_binaries() -> Binaries | None:
    """Paths of every binary of :data:`BINARY_NAMES`, or None if one is missing
    (a cache built before some were added: build.sh adds them)."""
    directory = binaries_dir()
    if missing_binaries(directory):
        return None
    return Binaries(
        directory=directory,
        kube_apiserver=directory / "kube-apiserver",
        etcd=directory / "etcd",
        kube_controller_manager=directory / "kube-controller-manager",
        kube_scheduler=directory / "kube-scheduler",
        kubectl=directory / "kubectl",
    )


# --------------------------------------------------------------------------
# process handling
# --------------------------------------------------------------------------

_LIVE: dict[int, subprocess.Popen[bytes]] = {}
_LIVE_LOCK = threading.Lock()

_PR_SET_PDEATHSIG = 1
_prctl: Any
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux/glibc
    _prctl = None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _spawn(argv: Sequence[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start a process in its own process group, output appended to log_path.

    When started from the main thread, the child also gets PR_SET_PDEATHSIG so
    the kernel kills it if this Python process dies without running atexit
    (SIGKILL, crash). From other threads we skip that, because the signal fires
    when the *thread* that forked exits.
    """
    with open(log_path, "ab") as log:
        log.write(f"\n===== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        log.flush()
        use_pdeathsig = threading.current_thread() is threading.main_thread()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(cwd),
            start_new_session=True,
            preexec_fn=_die_with_parent if use_pdeathsig else None,
        )
    with _LIVE_LOCK:
        _LIVE[proc.pid] = proc
    return proc


def _terminate(proc: subprocess.Popen[bytes] | None, grace: float = 5.0, sig: int = signal.SIGTERM) -> None:
    """Send sig to the process group; SIGKILL it if still alive after grace."""
    if proc is None:
        return
    try:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    finally:
        with _LIVE_LOCK:
            _LIVE.pop(proc.pid, None)


@atexit.register
def _kill_leftovers() -> None:
    with _LIVE_LOCK:
        procs = list(_LIVE.values())
    for proc in procs:
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            _terminate(proc, grace=3.0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        data = path.read_bytes()[-64_000:]
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


# --------------------------------------------------------------------------
# certificates
# --------------------------------------------------------------------------

_OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid:always
"""


def _make_certs(d: Path) -> None:
    """Write ca.crt/ca.key, apiserver.crt/.key (127.0.0.1, localhost), sa.key/sa.pub."""
    d.mkdir(parents=True, exist_ok=True)
    openssl = shutil.which("openssl")
    if openssl:
        cnf = d / "openssl.cnf"
        cnf.write_text(_OPENSSL_CNF)

        def run(*args: str) -> None:
            res = subprocess.run([openssl, *args], cwd=d, capture_output=True, text=True)
            if res.returncode != 0:
                raise ControlPlaneError(f"openssl {' '.join(args)} failed:\n{res.stderr}")

        run(
            "req",
            "-x509",
            "-config",
            str(cnf),
            "-extensions",
            "v3_ca",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "3650",
            "-subj",
            "/CN=profilespawner-test-ca",
        )
        run(
            "req",
            "-new",
            "-config",
            str(cnf),
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "apiserver.key",
            "-out",
            "apiserver.csr",
            "-subj",
            "/CN=kube-apiserver",
        )
        run(
            "x509",
            "-req",
            "-in",
            "apiserver.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "apiserver.crt",
            "-days",
            "3650",
            "-extfile",
            str(cnf),
            "-extensions",
            "v3_server",
        )
        run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key")
        run("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub")
        return
    try:
        _make_certs_cryptography(d)
    except ImportError as exc:
        raise ControlPlaneError(
            "need either the `openssl` CLI or the `cryptography` package to make the test certificates"
        ) from exc


def _make_certs_cryptography(d: Path) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def key() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def write_key(k: rsa.RSAPrivateKey, name: str) -> None:
        (d / name).write_bytes(
            k.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=3650)
    ca_key = key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "profilespawner-test-ca")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    srv_key = key()
    srv = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(srv_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(srv_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    write_key(ca_key, "ca.key")
    (d / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    write_key(srv_key, "apiserver.key")
    (d / "apiserver.crt").write_bytes(srv.public_bytes(serialization.Encoding.PEM))
    sa_key = key()
    write_key(sa_key, "sa.key")
    (d / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _make_client_cert(d: Path, name: str, user: str, groups: Sequence[str]) -> tuple[bytes, bytes]:
    """A client certificate for ``user`` in ``groups`` (CN and O, as Kubernetes
    reads them), signed by the CA in ``d``: (certificate PEM, key PEM).

    An EC P-256 key: quick to make, which matters for a node set's worth of them.
    Files ``d/<name>.crt`` and ``d/<name>.key`` are written too (mode 0600).
    """
    crt, key = d / f"{name}.crt", d / f"{name}.key"
    openssl = shutil.which("openssl")
    if openssl:
        subject = "".join(f"/O={group}" for group in groups) + f"/CN={user}"

        def run(*args: str) -> None:
            res = subprocess.run([openssl, *args], cwd=d, capture_output=True, text=True)
            if res.returncode != 0:
                raise ControlPlaneError(f"openssl {' '.join(args)} failed:\n{res.stderr}")

        csr = d / f"{name}.csr"
        run(
            "req", "-new", "-config", "openssl.cnf", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.name, "-out", csr.name, "-subj", subject,
        )  # fmt: skip
        run(
            "x509", "-req", "-in", csr.name, "-CA", "ca.crt", "-CAkey", "ca.key",
            "-set_serial", f"0x{secrets.token_hex(16)}", "-out", crt.name, "-days", "3650",
            "-extfile", "openssl.cnf", "-extensions", "v3_client",
        )  # fmt: skip
        csr.unlink()
    else:
        _make_client_cert_cryptography(d, crt, key, user, groups)
    key.chmod(0o600)
    return crt.read_bytes(), key.read_bytes()


def _make_client_cert_cryptography(d: Path, crt: Path, key: Path, user: str, groups: Sequence[str]) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca = x509.load_pem_x509_certificate((d / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((d / "ca.key").read_bytes(), password=None)
    client_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
    names.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(names))
        .issuer_name(ca.subject)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


# --------------------------------------------------------------------------
# kubeconfig helpers
# --------------------------------------------------------------------------


def _yaml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    ca_data: bytes | None,
    token: str | None,
    namespace: str = "default",
    name: str = "profilespawner-test",
    insecure: bool = False,
    client_cert: bytes | None = None,
    client_key: bytes | None = None,
) -> Path:
    """Write a minimal kubeconfig (YAML) with a bearer token or a client certificate."""
    lines = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        f"- name: {_yaml_str(name)}",
        "  cluster:",
        f"    server: {_yaml_str(server)}",
    ]
    if ca_data is not None:
        lines.append(f"    certificate-authority-data: {_yaml_str(base64.b64encode(ca_data).decode())}")
    if insecure:
        lines.append("    insecure-skip-tls-verify: true")
    lines += [
        "contexts:",
        f"- name: {_yaml_str(name)}",
        "  context:",
        f"    cluster: {_yaml_str(name)}",
        f"    user: {_yaml_str(name)}",
        f"    namespace: {_yaml_str(namespace)}",
        f"current-context: {_yaml_str(name)}",
        "users:",
        f"- name: {_yaml_str(name)}",
        "  user:" + ("" if token or client_cert else " {}"),
    ]
    if token:
        lines.append(f"    token: {_yaml_str(token)}")
    if client_cert and client_key:
        lines.append(f"    client-certificate-data: {_yaml_str(base64.b64encode(client_cert).decode())}")
        lines.append(f"    client-key-data: {_yaml_str(base64.b64encode(client_key).decode())}")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def _load_kubeconfig(path: Path) -> dict[str, Any]:
    text = Path(path).read_text()
    try:
        data = json.loads(text)
    except ValueError:
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ControlPlaneError(f"{path} is YAML; install PyYAML (or give a JSON kubeconfig)") from exc
        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ControlPlaneError(f"{path} is not a kubeconfig")
    return data


def _named(items: Iterable[Mapping[str, Any]] | None, name: str, kind: str) -> dict[str, Any]:
    for item in items or ():
        if item.get("name") == name:
            return dict(item.get(kind) or {})
    raise ControlPlaneError(f"kubeconfig has no {kind} named {name!r}")


# --------------------------------------------------------------------------
# the control plane
# --------------------------------------------------------------------------


class ControlPlane:
    """etcd, kube-apiserver, kube-controller-manager and kube-scheduler on free
    127.0.0.1 ports (or a wrapped existing cluster).

    ``components`` names which of :data:`COMPONENTS` to start after the API
    server (default: both; ``()`` for a bare API server, as a test that only
    needs etcd and kube-apiserver may want). Use as a context manager;
    :meth:`start` / :meth:`stop` are also public.
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str] | None = None,
        *,
        binaries: Binaries | None = None,
        startup_timeout: float = 60.0,
        extra_apiserver_args: Sequence[str] = (),
        components: Iterable[str] = tuple(COMPONENTS),
    ) -> None:
        self._own_workdir = workdir is None
        self.workdir = (
            Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="profilespawner-cp-"))
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._binaries = binaries
        self.startup_timeout = startup_timeout
        self.extra_apiserver_args = list(extra_apiserver_args)
        self.components = tuple(components)
        unknown = sorted(set(self.components) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown components {unknown}; known: {sorted(COMPONENTS)}")
        self.managed = True  # False when wrapping an existing cluster

        self.admin_token: str | None = secrets.token_hex(24)
        self.pki_dir = self.workdir / "pki"
        self.ca_file: Path | None = self.pki_dir / "ca.crt"
        self.kubeconfig_path = self.workdir / "admin.kubeconfig"
        self.etcd_log = self.workdir / "etcd.log"
        self.apiserver_log = self.workdir / "kube-apiserver.log"
        self.etcd_data_dir = self.workdir / "etcd-data"
        self.etcd_client_port = 0
        self.etcd_peer_port = 0
        self.port = 0
        self._etcd: subprocess.Popen[bytes] | None = None
        self._apiserver: subprocess.Popen[bytes] | None = None
        self._component_procs: dict[str, subprocess.Popen[bytes]] = {}
        self.component_ports: dict[str, int] = {}
        #: Seconds each part took to start in the last :meth:`start` (etcd,
        #: kube-apiserver, the components together), and the total.
        self.start_seconds: dict[str, float] = {}
        self._ssl: ssl.SSLContext | None = None
        self._started = False
        self._server_url_override: str | None = None

    # ---- construction for an existing cluster ---------------------------

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | os.PathLike[str],
        workdir: str | os.PathLike[str] | None = None,
        context: str | None = None,
    ) -> ControlPlane:
        """Wrap an existing cluster (token or client-certificate auth).

        The kill/restart helpers raise :class:`NotRestartable`.
        """
        self = cls(workdir=workdir)
        self.managed = False
        self.kubeconfig_path = Path(kubeconfig).resolve()
        cfg = _load_kubeconfig(self.kubeconfig_path)
        ctx_name = context or cfg.get("current-context")
        if not ctx_name:
            raise ControlPlaneError(f"{kubeconfig}: no current-context")
        ctx = _named(cfg.get("contexts"), ctx_name, "context")
        cluster = _named(cfg.get("clusters"), ctx["cluster"], "cluster")
        user = _named(cfg.get("users"), ctx["user"], "user")
        base = self.kubeconfig_path.parent

        def material(key: str, name: str) -> Path | None:
            data = cluster.get(f"{key}-data") or user.get(f"{key}-data")
            if data:
                p = self.workdir / name
                p.write_bytes(base64.b64decode(data))
                p.chmod(0o600)
                return p
            ref = cluster.get(key) or user.get(key)
            return (base / ref) if ref else None

        self._server_url_override = str(cluster["server"]).rstrip("/")
        self.ca_file = material("certificate-authority", "ca.crt")
        ctx_ssl = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if cluster.get("insecure-skip-tls-verify"):
            ctx_ssl.check_hostname = False
            ctx_ssl.verify_mode = ssl.CERT_NONE
        cert = material("client-certificate", "client.crt")
        key = material("client-key", "client.key")
        if cert and key:
            ctx_ssl.load_cert_chain(str(cert), str(key))
        self.admin_token = user.get("token")
        if not self.admin_token and user.get("tokenFile"):
            self.admin_token = (base / user["tokenFile"]).read_text().strip()
        if not (self.admin_token or cert):
            raise ControlPlaneError(
                f"{kubeconfig}: user {ctx['user']!r} has neither a token nor a client "
                "certificate (exec/auth-provider plugins are not supported here)"
            )
        self._ssl = ctx_ssl
        self._started = True
        return self

    # ---- properties -----------------------------------------------------

    @property
    def server_url(self) -> str:
        return self._server_url_override or f"https://127.0.0.1:{self.port}"

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self.etcd_client_port}"

    def component_log(self, component: str) -> Path:
        """The log file of ``kube-scheduler`` or ``kube-controller-manager``."""
        return self.workdir / f"{component}.log"

    @property
    def can_restart(self) -> bool:
        return self.managed

    @property
    def versions(self) -> dict[str, str]:
        return read_versions()

    # ---- lifecycle ------------------------------------------------------

    def __enter__(self) -> ControlPlane:
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ControlPlane:
        if not self.managed or self._started:
            return self
        if self._binaries is None:
            self._binaries = find_binaries()
        if self._binaries is None:
            missing = ", ".join(missing_binaries())
            raise ControlPlaneError(f"{missing} not found in {binaries_dir()}; {BUILD_HINT}")
        began = time.monotonic()
        try:
            # A reused workdir starts from an empty etcd (peer URLs change per run).
            shutil.rmtree(self.etcd_data_dir, ignore_errors=True)
            _make_certs(self.pki_dir)
            (self.workdir / "tokens.csv").write_text(
                f'{self.admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n'
            )
            (self.workdir / "tokens.csv").chmod(0o600)
            self._ssl = ssl.create_default_context(cafile=str(self.ca_file))
            self._start_with_port_retries(self._start_etcd_fresh_ports)
            etcd_up = time.monotonic()
            self._start_with_port_retries(self._start_apiserver_fresh_port)
            apiserver_up = time.monotonic()
            write_kubeconfig(
                self.kubeconfig_path,
                server=self.server_url,
                ca_data=self.pki_dir.joinpath("ca.crt").read_bytes(),
                token=self.admin_token,
            )
            self._start_components()
            done = time.monotonic()
            self.start_seconds = {
                "etcd": etcd_up - began,
                "kube-apiserver": apiserver_up - etcd_up,
                "components": done - apiserver_up,
                "total": done - began,
            }
            self._started = True
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the scheduler and the controller-manager, kube-apiserver,
        then etcd (SIGTERM, SIGKILL after 5 s)."""
        if not self.managed:
            if self._own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            return
        for proc in self._component_procs.values():
            _terminate(proc)
        self._component_procs.clear()
        _terminate(self._apiserver)
        self._apiserver = None
        _terminate(self._etcd)
        self._etcd = None
        self._started = False
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- etcd -----------------------------------------------------------

    def _start_with_port_retries(self, fn: Any, attempts: int = 3) -> None:
        for attempt in range(attempts):
            try:
                fn()
                return
            except _PortInUse:
                if attempt == attempts - 1:
                    raise ControlPlaneError("could not find free ports after retries") from None

    def _start_etcd_fresh_ports(self) -> None:
        self.etcd_client_port = _free_port()
        self.etcd_peer_port = _free_port()
        while self.etcd_peer_port == self.etcd_client_port:
            self.etcd_peer_port = _free_port()
        self._start_etcd()

    def _etcd_argv(self) -> list[str]:
        assert self._binaries is not None
        client = self.etcd_url
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        return [
            str(self._binaries.etcd),
            "--name=default",
            f"--data-dir={self.etcd_data_dir}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}",
            "--initial-cluster-state=new",
            "--unsafe-no-fsync",
            f"--quota-backend-bytes={512 * 1024 * 1024}",
            "--log-level=warn",
        ]

    def _start_etcd(self) -> None:
        self._etcd = _spawn(self._etcd_argv(), self.etcd_log, self.workdir)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            rc = self._etcd.poll()
            if rc is not None:
                tail = _tail(self.etcd_log)
                _terminate(self._etcd)
                self._etcd = None
                if "address already in use" in tail:
                    raise _PortInUse()
                raise ControlPlaneError(f"etcd exited with code {rc}; log {self.etcd_log}:\n{tail}")
            try:
                with urllib.request.urlopen(f"{self.etcd_url}/health", timeout=2) as r:
                    if json.loads(r.read()).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                _terminate(self._etcd)
                self._etcd = None
                raise ControlPlaneError(
                    f"etcd not healthy after {self.startup_timeout:.0f}s; log "
                    f"{self.etcd_log}:\n{_tail(self.etcd_log)}"
                )
            time.sleep(0.1)

    def restart_etcd(self, sig: int = signal.SIGTERM) -> None:
        """Stop etcd (sig, default SIGTERM) and start it again on the same ports
        and data dir; waits until kube-apiserver is ready again."""
        self._require_managed()
        _terminate(self._etcd, sig=sig)
        self._etcd = None
        self._start_etcd()
        if self._apiserver is not None:
            self.wait_ready()

    # ---- kube-apiserver -------------------------------------------------

    def _start_apiserver_fresh_port(self) -> None:
        self.port = _free_port()
        while self.port in (self.etcd_client_port, self.etcd_peer_port):
            self.port = _free_port()
        self.start_apiserver()

    def _apiserver_argv(self) -> list[str]:
        assert self._binaries is not None
        pki = self.pki_dir
        return [
            str(self._binaries.kube_apiserver),
            f"--etcd-servers={self.etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--cert-dir={self.workdir / 'apiserver-certs'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--token-auth-file={self.workdir / 'tokens.csv'}",
            # Client certificates signed by the test CA: the scheduler's, the
            # controller-manager's and the test kubelet's nodes'.
            f"--client-ca-file={pki / 'ca.crt'}",
            # Nodes (system:node:<name>) may touch only their own Node, Lease and
            # pods, and the Secrets and ConfigMaps those pods use; RBAC for the rest.
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            f"--service-account-issuer=https://127.0.0.1:{self.port}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            # As in controller-runtime's envtest: pods need no ServiceAccount, so a
            # namespace is usable the moment it exists (the serviceaccount
            # controller, which would create "default" in it, does not run).
            "--disable-admission-plugins=ServiceAccount",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true",
            # The "kubernetes" Service endpoints would point at loopback; skip them.
            "--endpoint-reconciler-type=none",
            *self.extra_apiserver_args,
        ]

    def start_apiserver(self) -> None:
        """Start kube-apiserver on self.port (the same port after a stop) and
        wait for /readyz."""
        self._require_managed()
        if self._apiserver is not None and self._apiserver.poll() is None:
            raise ControlPlaneError("kube-apiserver is already running")
        self._apiserver = _spawn(self._apiserver_argv(), self.apiserver_log, self.workdir)
        self.wait_ready()

    def stop_apiserver(self, sig: int = signal.SIGKILL, grace: float = 10.0) -> None:
        """Stop kube-apiserver with sig (default SIGKILL); etcd keeps running."""
        self._require_managed()
        _terminate(self._apiserver, grace=grace, sig=sig)
        self._apiserver = None

    def wait_ready(self, timeout: float | None = None) -> None:
        """Poll /readyz until it answers 200 (bounded by timeout/startup_timeout)."""
        timeout = self.startup_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while True:
            proc = self._apiserver
            if self.managed and proc is not None and proc.poll() is not None:
                tail = _tail(self.apiserver_log)
                rc = proc.returncode
                _terminate(proc)
                self._apiserver = None
                if "address already in use" in tail and not self._started:
                    raise _PortInUse()
                raise ControlPlaneError(
                    f"kube-apiserver exited with code {rc}; log {self.apiserver_log}:\n{tail}"
                )
            try:
                status, body = self.request("GET", "/readyz", timeout=5)
                if status == 200:
                    return
                last = f"HTTP {status}: {str(body)[-500:]}"
            except (OSError, ssl.SSLError) as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                where = f"; log {self.apiserver_log}:\n{_tail(self.apiserver_log)}" if self.managed else ""
                raise ControlPlaneError(
                    f"kube-apiserver at {self.server_url} not ready after {timeout:.0f}s "
                    f"(last: {last}){where}"
                )
            time.sleep(0.2)

    # ---- kube-controller-manager and kube-scheduler ---------------------

    def _component_argv(self, component: str, port: int, kubeconfig: Path) -> list[str]:
        assert self._binaries is not None
        common = [
            str(self._binaries.of(component)),
            f"--kubeconfig={kubeconfig}",
            # Their own HTTPS endpoint (/healthz, /metrics) checks callers
            # against the API server with the same credentials, as kubeadm sets it up.
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            # Bearer tokens only (TokenReview); no front-proxy client CA to look up.
            "--authentication-skip-lookup=true",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={self.workdir / (component + '-certs')}",
            # One instance of each, never supervised: leader election would only
            # make them exit when a test keeps the API server down past the
            # lease's renew deadline (a real cluster restarts them; we don't).
            "--leader-elect=false",
        ]
        if component == "kube-scheduler":
            return common
        return [
            *common,
            f"--controllers={','.join(CONTROLLERS)}",
            # Each controller acts as its own ServiceAccount in kube-system
            # (system:controller:<name> RBAC roles), with tokens from the
            # TokenRequest API, which the API server signs with sa.key.
            "--use-service-account-credentials=true",
            "--cluster-name=profilespawner-test",
        ]

    def _start_components(self) -> None:
        """Start the components (all at once) and wait until each answers its
        health check: /readyz (the scheduler's informers have synced) or
        /healthz (the controller-manager's controllers run)."""
        ca = self.pki_dir.joinpath("ca.crt").read_bytes()
        for component in self.components:
            cert, key = _make_client_cert(self.pki_dir, component, COMPONENTS[component], ())
            write_kubeconfig(
                self.workdir / f"{component}.kubeconfig",
                server=self.server_url,
                ca_data=ca,
                token=None,
                name=component,
                client_cert=cert,
                client_key=key,
            )
            self._start_component(component)
        for component in self.components:
            for attempt in range(3):
                try:
                    self._wait_component(component)
                    break
                except _PortInUse:  # taken between choosing it and binding it
                    if attempt == 2:
                        raise ControlPlaneError(f"{component}: no free port after retries") from None
                    self._start_component(component)

    def _start_component(self, component: str) -> None:
        taken = {self.port, self.etcd_client_port, self.etcd_peer_port, *self.component_ports.values()}
        port = _free_port()
        while port in taken:
            port = _free_port()
        self.component_ports[component] = port
        kubeconfig = self.workdir / f"{component}.kubeconfig"
        self._component_procs[component] = _spawn(
            self._component_argv(component, port, kubeconfig), self.component_log(component), self.workdir
        )

    def _wait_component(self, component: str) -> None:
        proc = self._component_procs[component]
        path = "/readyz" if component == "kube-scheduler" else "/healthz"
        url = f"https://127.0.0.1:{self.component_ports[component]}{path}"
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE  # its own self-signed serving certificate
        log = self.component_log(component)
        deadline = time.monotonic() + self.startup_timeout
        last = "no answer yet"
        while True:
            if proc.poll() is not None:
                tail = _tail(log)
                _terminate(proc)
                if "address already in use" in tail:
                    raise _PortInUse()
                raise ControlPlaneError(f"{component} exited with code {proc.returncode}; log {log}:\n{tail}")
            try:
                with urllib.request.urlopen(url, context=insecure, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code}: {error.read()[-300:]!r}"
            except OSError as error:
                last = repr(error)
            if time.monotonic() > deadline:
                raise ControlPlaneError(
                    f"{component} not healthy after {self.startup_timeout:.0f}s (last: {last}); "
                    f"log {log}:\n{_tail(log)}"
                )
            time.sleep(0.1)

    def _require_managed(self) -> None:
        if not self.managed:
            raise NotRestartable("this ControlPlane wraps an existing cluster")

    # ---- HTTP -----------------------------------------------------------

    def raw_request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        *,
        content_type: str = "application/json",
        timeout: float = 30.0,
        use_admin: bool = True,
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """Like :meth:`request` but returns (status, raw bytes, headers)."""
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.server_url + path, data=data, method=method.upper())
        bearer = token if token is not None else (self.admin_token if use_admin else None)
        if bearer:
            req.add_header("Authorization", f"Bearer {bearer}")
        if data is not None:
            req.add_header("Content-Type", content_type)
        req.add_header("Accept", "application/json, */*")
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=timeout) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers or {})

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        *,
        content_type: str = "application/json",
        timeout: float = 30.0,
    ) -> tuple[int, Any]:
        """Send one request; returns (status, parsed JSON, or text if not JSON).

        token=None uses the admin token. ``path`` includes the query string.
        Connection errors raise OSError (urllib.error.URLError).
        """
        status, raw, _ = self.raw_request(
            method, path, body, token, content_type=content_type, timeout=timeout
        )
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def metrics(self) -> str:
        """Raw Prometheus text from /metrics (admin token)."""
        status, raw, _ = self.raw_request("GET", "/metrics")
        if status != 200:
            raise ControlPlaneError(f"GET /metrics: HTTP {status}: {raw[:500]!r}")
        return raw.decode()

    def _check(self, what: str, status: int, body: Any, ok: Sequence[int] = (200, 201)) -> dict[str, Any]:
        if status not in ok:
            raise ControlPlaneError(f"{what}: HTTP {status}: {body}")
        return body if isinstance(body, dict) else {}

    def apply(self, path: str, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply obj at path (an object URL), forcing ownership."""
        q = urllib.parse.urlencode({"fieldManager": FIELD_MANAGER, "force": "true"})
        status, body = self.request("PATCH", f"{path}?{q}", obj, content_type="application/apply-patch+yaml")
        return self._check(f"apply {path}", status, body)

    # ---- conveniences ---------------------------------------------------

    def create_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(labels or {})},
        }
        status, resp = self.request("POST", "/api/v1/namespaces", body)
        return self._check(f"create namespace {name}", status, resp)

    def delete_namespace(self, name: str) -> None:
        """Delete a namespace (404 is fine). The namespace controller deletes its
        objects, then the namespace; pods bound to a Node wait for their
        kubelet, so names are still best kept unique."""
        status, resp = self.request("DELETE", f"/api/v1/namespaces/{name}")
        self._check(f"delete namespace {name}", status, resp, ok=(200, 202, 404))

    def service_account_token(
        self,
        namespace: str,
        name: str,
        rules: Sequence[Mapping[str, Any]],
        *,
        expiration_seconds: int = 3600,
        audiences: Sequence[str] | None = None,
        wait: float = 15.0,
    ) -> str:
        """Create ServiceAccount ``name`` + Role ``name`` (exactly ``rules``) +
        RoleBinding ``name`` in ``namespace`` and return a bearer token minted
        with the TokenRequest API. Waits until RBAC grants the rules."""
        ns = urllib.parse.quote(namespace)
        n = urllib.parse.quote(name)
        self.apply(
            f"/api/v1/namespaces/{ns}/serviceaccounts/{n}",
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": name, "namespace": namespace},
            },
        )
        rbac = "/apis/rbac.authorization.k8s.io/v1"
        self.apply(
            f"{rbac}/namespaces/{ns}/roles/{n}",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": name, "namespace": namespace},
                "rules": [dict(r) for r in rules],
            },
        )
        self.apply(
            f"{rbac}/namespaces/{ns}/rolebindings/{n}",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": namespace},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
            },
        )
        spec: dict[str, Any] = {"expirationSeconds": expiration_seconds}
        if audiences:
            spec["audiences"] = list(audiences)
        status, resp = self.request(
            "POST",
            f"/api/v1/namespaces/{ns}/serviceaccounts/{n}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
        )
        token = self._check(f"TokenRequest {namespace}/{name}", status, resp)["status"]["token"]
        self._wait_rbac(namespace, name, rules, wait)
        return str(token)

    def _wait_rbac(self, namespace: str, name: str, rules: Sequence[Mapping[str, Any]], wait: float) -> None:
        """The RBAC authorizer reads roles through an informer; wait until the
        first verb/resource of every rule is allowed for the ServiceAccount."""
        user = f"system:serviceaccount:{namespace}:{name}"
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]
        checks: list[dict[str, Any]] = []
        for rule in rules:
            verbs = list(rule.get("verbs") or [])
            if not verbs or verbs[0] == "*":
                continue
            if rule.get("nonResourceURLs"):
                continue  # not grantable by a Role; nothing to wait for
            groups_ = list(rule.get("apiGroups") or [""])
            resources = list(rule.get("resources") or [])
            if not resources or "*" in (groups_[0], resources[0]):
                continue
            res, _, sub = resources[0].partition("/")
            attrs: dict[str, Any] = {
                "namespace": namespace,
                "verb": verbs[0],
                "group": groups_[0],
                "resource": res,
            }
            if sub:
                attrs["subresource"] = sub
            if rule.get("resourceNames"):
                attrs["name"] = rule["resourceNames"][0]
            checks.append(attrs)
        deadline = time.monotonic() + wait
        for attrs in checks:
            while True:
                status, resp = self.request(
                    "POST",
                    "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                    {
                        "apiVersion": "authorization.k8s.io/v1",
                        "kind": "SubjectAccessReview",
                        "spec": {"user": user, "groups": groups, "resourceAttributes": attrs},
                    },
                )
                if status == 201 and resp.get("status", {}).get("allowed"):
                    break
                if time.monotonic() > deadline:
                    raise ControlPlaneError(
                        f"RBAC did not grant {attrs} to {user} within {wait}s: {status} {resp}"
                    )
                time.sleep(0.05)

    def write_client_kubeconfig(
        self,
        path: str | os.PathLike[str],
        *,
        user: str,
        groups: Sequence[str] = (),
        namespace: str = "default",
    ) -> Path:
        """Write a kubeconfig authenticating as ``user`` in ``groups`` with a
        client certificate signed by this control plane's CA (as a node's
        kubelet or a kubeadm component does), e.g. ``user="system:node:n1",
        groups=["system:nodes"]`` for node ``n1``. Local control plane only."""
        self._require_managed()
        name = "client-" + secrets.token_hex(6)
        cert, key = _make_client_cert(self.pki_dir, name, user, groups)
        return write_kubeconfig(
            Path(path),
            server=self.server_url,
            ca_data=self.pki_dir.joinpath("ca.crt").read_bytes(),
            token=None,
            namespace=namespace,
            client_cert=cert,
            client_key=key,
        )

    def write_kubeconfig(
        self, path: str | os.PathLike[str], *, token: str | None = None, namespace: str = "default"
    ) -> Path:
        """Write a kubeconfig for this cluster using ``token`` (default: admin)."""
        ca = Path(self.ca_file).read_bytes() if self.ca_file else None
        return write_kubeconfig(
            Path(path),
            server=self.server_url,
            ca_data=ca,
            token=token or self.admin_token,
            namespace=namespace,
        )


class _PortInUse(Exception):
    pass


def _main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.controlplane.harness [WORKDIR]``: start a control plane
    (no Nodes: pods stay Pending), print how to reach it, and run until Ctrl-C."""
    import sys

    # Clean shutdown on Ctrl-C and on SIGTERM (SIGINT may arrive ignored when
    # started in the background by a non-interactive shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = list(sys.argv[1:] if argv is None else argv)
    workdir = args[0] if args else None
    with ControlPlane(workdir=workdir) as cp:
        print(f"kube-apiserver: {cp.server_url}")
        print(f"export KUBECONFIG={cp.kubeconfig_path}")
        logs = [cp.apiserver_log, cp.etcd_log, *(cp.component_log(c) for c in cp.components)]
        print(f"started in {cp.start_seconds['total']:.1f}s; logs: {' '.join(map(str, logs))}")
        print("Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
