"""The GraphQL registry in its own process, as tests talk to a real ``event-registry serve``.

:class:`RegistryProcess` runs the real console script (``python -m event_registry serve``) on
free loopback ports, with its embedded control plane writing ``<data dir>/kubeconfig``; tests
reach it only over HTTP: GraphQL through :meth:`RegistryProcess.query` (or any client at
:attr:`RegistryProcess.url`), and the control plane through the PyPI kubectl
(:meth:`RegistryProcess.kubectl`). The process's stdout and stderr go to a log file (no pipe
can fill up and block it); its ``registry: URL`` announcement is read from there.

Also here: :class:`AnnouncingProcess` (any child process that prints ``<name>: URL`` once it
serves), :func:`post_graphql`, the manifest builders :func:`eventtype`, :func:`broker` and
:func:`trigger`, and :func:`eventually` / :func:`eventually_async` for polling.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

import yaml

from tests.support import processes
from tests.support.controlplane import REPO, manifest, run_kubectl

Json = dict[str, Any]
T = TypeVar("T")

EVENTING = "eventing.knative.dev"


# processes -----------------------------------------------------------------------------------


class AnnouncingProcess:
    """A child process whose output goes to a log file; started, it announces a URL as
    ``<announcement>: URL`` on a line of its own."""

    def __init__(self, name: str, args: Sequence[str], log: Path, **popen: Any) -> None:
        self.name = name
        self.args = list(args)
        self.log_path = log
        self.popen = popen
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, announcement: str, timeout: float) -> str:
        """Start the process and return the URL it announces (fails after ``timeout``)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            **self.popen,
        )
        processes.track(self.process)
        pattern = re.compile(rf"^{re.escape(announcement)}: (\S+)\s*$", re.MULTILINE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.search(self.log_path.read_text(errors="replace"))
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not announce its URL:\n{self.output()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def output(self, limit: int = 4000) -> str:
        """The end of the process's log (stdout and stderr)."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-limit:]

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, as Kubernetes stops a pod, and wait at most ``timeout`` seconds for the
        exit: its status (then the process is stopped as by :meth:`stop`)."""
        self.send_sigterm()
        return self.wait_exit(timeout)

    def send_sigterm(self) -> None:
        assert self.process is not None, f"{self.name} is not running"
        self.process.terminate()

    def wait_exit(self, timeout: float = 30) -> int:
        """Wait at most ``timeout`` seconds for the process to exit by itself: its status
        (then it is stopped as by :meth:`stop`)."""
        assert self.process is not None, f"{self.name} is not running"
        try:
            status = self.process.wait(timeout)
        finally:
            self.stop()
        return status

    def stop(self, timeout: float = 15) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after ``timeout``) and wait for it."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            processes.untrack(self.process)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


# HTTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """An HTTP response, whatever its status."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class HttpStatusError(AssertionError):
    """A GraphQL request answered with another status than 200."""

    def __init__(self, method: str, url: str, reply: Reply) -> None:
        super().__init__(f"{method} {url} → {reply.status}: {reply.text[:2000]}")
        self.reply = reply


def http(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One HTTP request with urllib; 4xx and 5xx answers are returned, not raised."""
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}), method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, dict(error.headers.items()), error.read())


def auth_headers(token: str | None) -> dict[str, str]:
    return {} if token is None else {"authorization": f"Bearer {token}"}


def post_graphql(
    url: str,
    query: str,
    variables: Mapping[str, Any] | None = None,
    token: str | None = None,
    *,
    timeout: float = 30,
) -> Json:
    """POST a GraphQL request as JSON; the response document (``data`` and/or ``errors``).

    Any status but 200 raises :class:`HttpStatusError` (an AssertionError) with the body.
    """
    payload: Json = {"query": query}
    if variables is not None:
        payload["variables"] = dict(variables)
    headers = {
        "content-type": "application/json",
        "accept": "application/json",
        **auth_headers(token),
    }
    reply = http("POST", url, body=json.dumps(payload).encode(), headers=headers, timeout=timeout)
    if reply.status != 200:
        raise HttpStatusError("POST", url, reply)
    result = reply.json()
    assert isinstance(result, dict), result
    return result


def data_of(result: Json) -> Json:
    """The ``data`` of a response that must have no ``errors``."""
    assert "errors" not in result, result["errors"]
    data: Json = result["data"]
    return data


# the registry --------------------------------------------------------------------------------


def write_tokens(path: Path, tokens: Sequence[Mapping[str, Any]]) -> Path:
    """Write a ``--tokens-file``: ``tokens: [{token, name, namespaces: {ns: [read, write]}}]``."""
    path.write_text(yaml.safe_dump({"tokens": [dict(entry) for entry in tokens]}))
    return path


class RegistryProcess:
    """``event-registry serve`` on free loopback ports, with its embedded control plane.

    ``start()`` returns once the process has announced its URL; ``wait_ready()`` then polls
    ``/readyz`` until every informer has synced. With ``tokens_file`` the registry runs in
    tokens mode.
    """

    def __init__(
        self,
        data_dir: Path,
        *extra_args: str,
        tokens_file: Path | None = None,
        log: Path | None = None,
        log_level: str = "warning",
    ) -> None:
        self.data_dir = data_dir
        self.tokens_file = tokens_file
        self.url = ""
        args = [
            sys.executable,
            "-m",
            "event_registry",
            "serve",
            "--port",
            "0",
            "--controlplane-port",
            "0",
            "--ingress-port",
            "0",
            "--data-dir",
            str(data_dir),
            "--log-level",
            log_level,
        ]
        if tokens_file is not None:
            args += ["--tokens-file", str(tokens_file)]
        self._process = AnnouncingProcess(
            "event-registry serve",
            [*args, *extra_args],
            log or data_dir / "registry.log",
            cwd=REPO,
        )

    # lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> RegistryProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.unlink(missing_ok=True)
        self.url = self._process.start("registry", timeout)
        return self

    def wait_ready(self, timeout: float = 60.0) -> Json:
        """Poll ``/readyz`` until it answers 200; its JSON body (``synced``, ``informers``).

        The port is announced before uvicorn listens on it, so refused connections are retried
        like 503s.
        """
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            try:
                reply = http("GET", f"{self.origin}/readyz", timeout=5)
            except (urllib.error.URLError, ConnectionError) as error:
                last = str(error)
            else:
                if reply.status == 200:
                    body = reply.json()
                    assert isinstance(body, dict), body
                    return body
                last = f"{reply.status} {reply.text}"
            if not self._process.running:
                raise RuntimeError(f"event-registry serve exited:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"registry not ready after {timeout}s: {last}\n{self.output()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        self._process.stop()

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM and wait for the exit (graceful drain): the exit status."""
        return self._process.terminate(timeout)

    def send_sigterm(self) -> None:
        """SIGTERM, without waiting (see :meth:`wait_exit`)."""
        self._process.send_sigterm()

    def wait_exit(self, timeout: float = 30) -> int:
        return self._process.wait_exit(timeout)

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def pid(self) -> int:
        """The ``serve`` process's id (with ``--workers``, the parent's)."""
        return self._process.pid

    def output(self) -> str:
        """The end of the registry's log."""
        return self._process.output()

    # where it is -----------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def kubeconfig(self) -> Path:
        """The embedded control plane's kubeconfig (written when it starts)."""
        return self.data_dir / "kubeconfig"

    # talking to it ---------------------------------------------------------------------------

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = False, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """The PyPI kubectl (never the machine's own) against the embedded control plane."""
        return run_kubectl(
            self.kubeconfig,
            self.data_dir / "kubectl-cache",
            *args,
            input=input,
            check=check,
            timeout=timeout,
        )

    def apply(self, *documents: Mapping[str, Any]) -> str:
        """``kubectl apply`` the documents (failing on error); kubectl's output."""
        text = manifest(*(dict(document) for document in documents))
        return self.kubectl("apply", "-f", "-", input=text, check=True).stdout

    def query(
        self, query: str, variables: Mapping[str, Any] | None = None, token: str | None = None
    ) -> Json:
        """POST the operation to ``/graphql``; the response document (``data``/``errors``).

        Any status but 200 raises :class:`HttpStatusError` with the body.
        """
        return post_graphql(self.url, query, variables, token)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        """GET ``path`` (with its query string) from the registry, whatever the status."""
        return http("GET", f"{self.origin}{path}", headers=headers)


# manifests -----------------------------------------------------------------------------------


def _object(
    api_version: str,
    kind: str,
    name: str,
    namespace: str,
    spec: Mapping[str, Any],
    labels: Mapping[str, str] | None,
) -> Json:
    metadata: Json = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": dict(spec)}


def eventtype(
    name: str,
    namespace: str,
    *,
    version: str = "v1beta2",
    labels: Mapping[str, str] | None = None,
    **spec: Any,
) -> Json:
    """An EventType manifest (``eventing.knative.dev/<version>``) with ``spec`` as given."""
    return _object(f"{EVENTING}/{version}", "EventType", name, namespace, spec, labels)


def broker(
    name: str = "default",
    namespace: str = "default",
    *,
    labels: Mapping[str, str] | None = None,
    **spec: Any,
) -> Json:
    """A Broker manifest (``eventing.knative.dev/v1``)."""
    return _object(f"{EVENTING}/v1", "Broker", name, namespace, spec, labels)


def trigger(
    name: str,
    namespace: str,
    *,
    broker: str = "default",
    subscriber: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    **spec: Any,
) -> Json:
    """A Trigger manifest (``eventing.knative.dev/v1``); the subscriber defaults to a URI."""
    full = {
        "broker": broker,
        "subscriber": dict(subscriber or {"uri": f"http://{name}.example.com/"}),
        **spec,
    }
    return _object(f"{EVENTING}/v1", "Trigger", name, namespace, full, labels)


def broker_reference(name: str = "default", namespace: str | None = None) -> Json:
    """A KReference to a Broker (an EventType's ``spec.reference``)."""
    reference: Json = {"apiVersion": f"{EVENTING}/v1", "kind": "Broker", "name": name}
    if namespace is not None:
        reference["namespace"] = namespace
    return reference


# polling -------------------------------------------------------------------------------------


def eventually(predicate: Callable[[], T], timeout: float = 10.0, *, interval: float = 0.05) -> T:
    """Call ``predicate`` until it returns a truthy value; return that value.

    An AssertionError raised by ``predicate`` counts as "not yet"; after ``timeout`` seconds
    the last one is raised again (or an AssertionError showing the last value).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        else:
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still {value!r} after {timeout}s")
        time.sleep(interval)


async def eventually_async(
    predicate: Callable[[], Awaitable[T | None]], timeout: float = 10.0, *, interval: float = 0.05
) -> T:
    """:func:`eventually` for a coroutine function, sleeping without blocking the loop."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = await predicate()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        else:
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still {value!r} after {timeout}s")
        await asyncio.sleep(interval)
