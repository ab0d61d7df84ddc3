"""A real `linkflow serve` process on 127.0.0.1 and a free port, for the service tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    """`linkflow serve` in a subprocess; started, killed and restarted on the same port.

    Without `store` it gets a fresh SQLite store in a folder of its own: a test server never
    writes into the checkout (the default store, .linkflow/ under its working folder)."""

    def __init__(
        self,
        *args: str,
        store: str | None = None,
        token: str | None = None,
        log_format: str = "json",
        env: dict[str, str] | None = None,
        port: int | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.args = list(args)
        self._dir = tempfile.TemporaryDirectory()
        self.store = store or f"sqlite:///{Path(self._dir.name) / 'store.db'}"
        self.token = token
        self.log_format = log_format
        self.port = port or free_port()
        self.cwd = cwd or ROOT
        self.env = {**os.environ, **(env or {})}
        self.env.pop("LINKFLOW_TOKEN", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.backend = "sqlite" if self.store.startswith("sqlite") else "postgresql"
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "linkflow", "serve", *self.args]
        command += ["--port", str(self.port), "--log-format", self.log_format]
        command += ["--store", self.store]
        if self.token:
            path = Path(self._dir.name) / "token"
            path.write_text(self.token + "\n", encoding="utf-8")
            command += ["--token-file", str(path)]
        return command

    def start(self) -> ServiceProcess:
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"linkflow serve exited {code}:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"linkflow serve gave no answer in {START_SECONDS} s:\n{self.logs()}")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait; the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def logs(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.logs().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records

    def client(self, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0, **kwargs)

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.stop()
        finally:
            self.close()

    def close(self) -> None:
        """Kill the process if it still runs and let go of its log, token and store files."""
        self.kill()
        self._log.close()
        self._dir.cleanup()


def serve(*args: str, **kwargs: Any) -> ServiceProcess:
    return ServiceProcess(*args, **kwargs)


def run_serve(args: Sequence[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """`linkflow serve` expected to stop by itself (a refused configuration); should it get as
    far as opening a store, that is a throwaway one, not .linkflow/ in the checkout."""
    env = {k: v for k, v in os.environ.items() if k != "LINKFLOW_TOKEN"}
    with tempfile.TemporaryDirectory() as folder:
        env["LINKFLOW_STORE"] = f"sqlite:///{Path(folder) / 'store.db'}"
        return subprocess.run(
            [sys.executable, "-m", "linkflow", "serve", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
