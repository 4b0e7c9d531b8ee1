"""A real single-node Apache Kafka broker (KRaft) run from the Maven jars in ``deploy/kafka/lib``.

`LocalBroker` owns one home directory: the rendered ``server.properties``, the data dir, the broker's
log (``kafka.log``) and a pid file, so a broker started by one process (``tape kafka start``) can be
inspected and stopped by another (``tape kafka status|stop``). Tests start one per session
(``tests/conftest.py``).
"""

from __future__ import annotations

import base64
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from schemas.errors import ConfigError, TapeError

if TYPE_CHECKING:  # confluent_kafka is imported lazily to keep `tape --help` fast
    from confluent_kafka.admin import AdminClient

DEPLOY_DIR = Path(__file__).resolve().parent.parent / "deploy" / "kafka"
MIN_JAVA = 17
_PR_SET_PDEATHSIG = 1


def java_major_version() -> int:
    """The major version of the ``java`` on PATH; `TapeError` if there is none."""
    if shutil.which("java") is None:
        raise TapeError(
            f"java not found on PATH: install a JDK >= {MIN_JAVA} (Debian: apt-get install "
            "openjdk-17-jre-headless) to run the local Kafka broker"
        )
    out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if match is None:
        raise TapeError(f"cannot read the Java version from `java -version`: {out.stderr.strip()!r}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major  # "1.8.0" means Java 8


def ensure_jars(deploy_dir: Path = DEPLOY_DIR) -> Path:
    """Resolve Kafka's jars into ``deploy_dir/lib`` with Maven unless they are there; return the lib dir."""
    lib = deploy_dir / "lib"
    pom = deploy_dir / "pom.xml"
    pinned = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    if pinned is None:
        raise TapeError(f"{pom}: no <kafka.version> property")
    if (lib / f"kafka_2.13-{pinned[1]}.jar").exists() and list(lib.glob("log4j-core-*.jar")):
        return lib
    if shutil.which("mvn") is None:
        raise TapeError(
            f"{lib} has no Kafka jars and mvn is not on PATH: install Maven (Debian: apt-get "
            "install maven) so the broker jars can be resolved from Maven Central"
        )
    done = subprocess.run(
        ["mvn", "-B", "-q", "-f", str(pom), "dependency:copy-dependencies"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise TapeError(
            f"resolving Kafka jars failed (mvn exit {done.returncode}):\n"
            f"{_tail(done.stdout + done.stderr, 30)}"
        )
    return lib


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes as unpadded URL-safe base64 (what ``random-uuid`` prints)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass(frozen=True)
class BrokerStatus:
    """What `LocalBroker.status` reports; ``topics`` is None when the broker is not running."""

    running: bool
    pid: int | None
    bootstrap: str
    home: Path
    topics: int | None


class LocalBroker:
    """A single-node KRaft Kafka broker+controller on 127.0.0.1, run from Maven-resolved jars.

    Parameters
    ----------
    home
        Directory holding ``server.properties``, ``data/``, ``kafka.log`` and ``kafka.pid``.
    port
        The client (PLAINTEXT) port.
    controller_port
        The KRaft controller port.
    heap_mb
        The JVM's maximum heap.
    jvm_opts
        Extra JVM options, appended after the defaults (e.g. drop-in GC settings for benchmarks).
    die_with_parent
        Kill the broker when the process that started it dies (Linux); tests use it so a killed test
        run leaves no broker behind. ``tape kafka start`` leaves it off so the broker outlives the CLI.
    deploy_dir
        Where ``pom.xml``, ``lib/``, ``server.properties.template`` and ``log4j2.properties`` live.

    Examples
    --------
    >>> import tempfile
    >>> broker = LocalBroker(Path(tempfile.mkdtemp()), port=29092, controller_port=29093)
    >>> broker.bootstrap
    '127.0.0.1:29092'
    >>> broker.is_running()
    False

    ``broker.start()`` formats the data dir on first use and returns once clients can list topics;
    ``broker.restart()`` keeps the data and ports; ``broker.stop()`` shuts it down cleanly.
    """

    def __init__(
        self,
        home: Path,
        port: int = 19092,
        controller_port: int = 19093,
        heap_mb: int = 512,
        jvm_opts: Sequence[str] = (),
        die_with_parent: bool = False,
        deploy_dir: Path = DEPLOY_DIR,
    ):
        for name, value in (("port", port), ("controller_port", controller_port)):
            if not 0 < value < 65536:
                raise ConfigError(f"{name} must be a TCP port in 1..65535, got {value}")
        if port == controller_port:
            raise ConfigError(f"controller_port must differ from port (both {port})")
        if heap_mb < 128:
            raise ConfigError(f"heap_mb must be at least 128, got {heap_mb}")
        self.home = Path(home).resolve()
        self.port = port
        self.controller_port = controller_port
        self.heap_mb = heap_mb
        self.jvm_opts = tuple(jvm_opts)
        self.die_with_parent = die_with_parent
        self.deploy_dir = deploy_dir
        self._proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def at(cls, home: Path, **kwargs: object) -> LocalBroker:
        """The broker configured in ``home``: ports read from its ``server.properties`` when present."""
        props = Path(home) / "server.properties"
        if props.exists():
            text = props.read_text()
            for key, pattern in (
                ("port", r"^listeners=PLAINTEXT://[^:,]+:(\d+)"),
                ("controller_port", r"^controller\.quorum\.voters=\d+@[^:,]+:(\d+)"),
            ):
                found = re.search(pattern, text, re.M)
                if found is None:
                    raise TapeError(f"{props}: cannot read {key} (no line matching {pattern!r})")
                kwargs.setdefault(key, int(found[1]))
        return cls(Path(home), **kwargs)  # type: ignore[arg-type]

    @property
    def bootstrap(self) -> str:
        """The ``bootstrap.servers`` string for clients: ``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """The broker's combined stdout/stderr log."""
        return self.home / "kafka.log"

    @property
    def pid_path(self) -> Path:
        """The pid file written by `start` and removed by `stop`."""
        return self.home / "kafka.pid"

    @property
    def data_dir(self) -> Path:
        """The broker's ``log.dirs`` (topic data and the KRaft metadata log)."""
        return self.home / "data"

    def ensure_jars(self) -> Path:
        """Check Java >= 17 and resolve the jars with Maven if missing; return the lib dir."""
        major = java_major_version()
        if major < MIN_JAVA:
            raise TapeError(
                f"Java {major} found, Kafka needs Java >= {MIN_JAVA}: install "
                "openjdk-17-jre-headless (or newer) and put it first on PATH"
            )
        return ensure_jars(self.deploy_dir)

    def format(self) -> None:
        """Render ``server.properties`` and format the data dir with a new cluster id (idempotent)."""
        lib = self.ensure_jars()
        self.home.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        cmd = [
            "java",
            "-Xmx256m",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            self._log4j_opt(),
            "-cp",
            f"{lib}/*",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            new_cluster_id(),
            "-c",
            str(self.home / "server.properties"),
            "-g",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise TapeError(
                f"formatting {self.data_dir} failed (exit {done.returncode}):\n"
                f"{_tail(done.stdout + done.stderr, 30)}"
            )

    def start(self, timeout: float = 60) -> None:
        """Start the broker and wait until an AdminClient can list topics.

        Raises `TapeError` if it is already running, a port is taken, or the broker dies or is not
        ready within ``timeout`` seconds (the message carries the log's tail).
        """
        if self.is_running():
            raise TapeError(f"a broker is already running from {self.home} (pid {self._read_pid()})")
        for p in (self.port, self.controller_port):
            if _port_open(p):
                raise TapeError(f"port {p} on 127.0.0.1 is already in use: pick another port/controller_port")
        if not (self.data_dir / "meta.properties").exists():
            self.format()
        else:
            self.ensure_jars()
            self._write_properties()
        lib = self.deploy_dir / "lib"
        cmd = [
            "java",
            f"-Xms{min(256, self.heap_mb)}m",
            f"-Xmx{self.heap_mb}m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            self._log4j_opt(),
            *self.jvm_opts,
            "-cp",
            f"{lib}/*",
            "kafka.Kafka",
            str(self.home / "server.properties"),
        ]
        with self.log_path.open("ab") as log:
            log.write(f"==== tape: starting broker {self.bootstrap} at {time.ctime()}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=self._preexec(),
            )
        self.pid_path.write_text(f"{self._proc.pid}\n")
        try:
            self._wait_ready(timeout)
        except TapeError:
            self._kill_own()
            raise

    def stop(self, timeout: float = 30) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout`` s); False if none was running.

        Works on a broker started by another process, found through the pid file.
        """
        pid = self._live_pid()
        if pid is None:
            self.pid_path.unlink(missing_ok=True)
            self._proc = None
            return False
        os.kill(pid, signal.SIGTERM)
        if not self._wait_exit(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            self._wait_exit(pid, 10)
        self.pid_path.unlink(missing_ok=True)
        self._proc = None
        return True

    def restart(self, timeout: float = 60) -> None:
        """Stop, then start again on the same data dir and ports."""
        self.stop()
        self.start(timeout=timeout)

    def is_running(self) -> bool:
        """Whether this home's broker process is alive."""
        return self._live_pid() is not None

    def status(self) -> BrokerStatus:
        """Running state, pid, bootstrap and (when running) the number of topics."""
        from confluent_kafka import KafkaException

        pid = self._live_pid()
        if pid is None:
            return BrokerStatus(False, None, self.bootstrap, self.home, None)
        try:
            topics = len(self._admin().list_topics(timeout=10).topics)
        except KafkaException as e:
            raise TapeError(f"Kafka (pid {pid}) is not answering at {self.bootstrap}: {e}") from e
        return BrokerStatus(True, pid, self.bootstrap, self.home, topics)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the broker log ('' if there is none yet)."""
        if not self.log_path.exists():
            return ""
        return _tail(self.log_path.read_text(errors="replace"), lines)

    # -- internals ------------------------------------------------------------------------------

    def _write_properties(self) -> None:
        template = Template((self.deploy_dir / "server.properties.template").read_text())
        text = template.substitute(
            port=self.port, controller_port=self.controller_port, log_dir=self.data_dir
        )
        (self.home / "server.properties").write_text(text)

    def _log4j_opt(self) -> str:
        return f"-Dlog4j2.configurationFile=file:{self.deploy_dir / 'log4j2.properties'}"

    def _preexec(self) -> Callable[[], object] | None:
        # PR_SET_PDEATHSIG fires when the forking *thread* exits, so only arm it from the main thread
        # (a test may restart the broker from a helper thread that ends long before the session).
        if not self.die_with_parent or threading.current_thread() is not threading.main_thread():
            return None
        libc = ctypes.CDLL(None, use_errno=True)
        return lambda: libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def _admin(self) -> AdminClient:
        from confluent_kafka.admin import AdminClient

        return AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})

    def _wait_ready(self, timeout: float) -> None:
        from confluent_kafka import KafkaException

        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise TapeError(
                    f"the Kafka broker exited with code {self._proc.returncode} while starting; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            if _port_open(self.port):
                try:
                    self._admin().list_topics(timeout=max(1.0, min(10.0, deadline - time.monotonic())))
                    return
                except KafkaException:
                    pass
            time.sleep(0.1)
        raise TapeError(
            f"the Kafka broker was not ready within {timeout:g} s; log {self.log_path}:\n{self.log_tail()}"
        )

    def _kill_own(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)
        self.pid_path.unlink(missing_ok=True)
        self._proc = None

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _live_pid(self) -> int | None:
        """The pid of this home's broker if it is alive (own child, or a pid-file process running Kafka)."""
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        pid = self._read_pid()
        if pid is None:
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        props = str(self.home / "server.properties").encode()
        return pid if b"kafka.Kafka" in cmdline and props in cmdline else None

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None:
                try:
                    self._proc.wait(0.1)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                return True
            time.sleep(0.1)
        return False


def free_ports(count: int = 2) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that nothing listens on right now (for spare brokers)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])
