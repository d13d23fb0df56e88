"""The emulated node: each pod's container runs as a real podman container.

Containers use host networking and the podman store of the test session; a
container's name and labels tie it to its pod and to this emulator instance,
so cleanup never touches another session's containers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.plugins.k8s.emulator.validation import parse_quantity

INSTANCE_LABEL = "k8s-emulator"
# Set in every container: no SDK inside may look for a cloud metadata server.
LOOPBACK_SAFE_ENV = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:1",
    "GCE_METADATA_IP": "127.0.0.1:1",
}


class StartError(Exception):
    """A container could not be started; `reason` is the kubelet's waiting/terminated reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Kubelet:
    def __init__(
        self, instance: str, api_port: int, podman: str = "podman", workers: int = 4
    ) -> None:
        self.instance = instance
        self.api_port = api_port
        self.podman = podman
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="k8s-emulator-kubelet")
        self.volume_root = tempfile.mkdtemp(prefix=f"k8s-emulator-{instance}-")
        self._images: dict[str, bool] = {}

    def container_name(self, namespace: str, pod: str, container: str, restart: int = 0) -> str:
        return f"k8semu-{self.instance}-{namespace}-{pod}-{container}-{restart}"

    def _run(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.podman, *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=check,
        )

    def image_present(self, image: str) -> bool:
        if not self._images.get(image):
            self._images[image] = self._run("image", "exists", image).returncode == 0
        return self._images[image]

    # -- starting --------------------------------------------------------------------

    def run_args(
        self, pod: dict[str, Any], container: dict[str, Any], env: dict[str, str], name: str
    ) -> list[str]:
        meta, spec = pod["metadata"], pod["spec"]
        args = [
            "run",
            "--detach",
            "--pull=never",
            "--network=host",
            f"--name={name}",
            f"--label={INSTANCE_LABEL}={self.instance}",
            f"--label=k8s.namespace={meta['namespace']}",
            f"--label=k8s.pod={meta['name']}",
        ]
        limits = (container.get("resources") or {}).get("limits") or {}
        if "cpu" in limits:
            args.append(f"--cpus={parse_quantity(limits['cpu']):g}")
        if "memory" in limits:
            args.append(f"--memory={int(parse_quantity(limits['memory']))}b")
        volumes = {volume["name"]: volume for volume in spec.get("volumes") or []}
        for mount in container.get("volumeMounts") or []:
            source = self.volume_path(pod, volumes[mount["name"]])
            suffix = ":ro" if mount.get("readOnly") else ""
            args.append(f"--volume={source}:{mount['mountPath']}{suffix}")
        if container.get("workingDir"):
            args.append(f"--workdir={container['workingDir']}")
        full_env = {
            **LOOPBACK_SAFE_ENV,
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": str(self.api_port),
            "HOSTNAME": spec.get("hostname") or meta["name"],
            **env,
        }
        for key, value in full_env.items():
            args.append(f"--env={key}={value}")
        command = container.get("command") or []
        if command:
            args.append("--entrypoint=" + json.dumps(command[:1]))
        args.append(container["image"])
        return args + command[1:] + list(container.get("args") or [])

    def volume_path(self, pod: dict[str, Any], volume: dict[str, Any]) -> str:
        if "hostPath" in volume:
            path = volume["hostPath"]["path"]
            if volume["hostPath"].get("type", "") in ("", "DirectoryOrCreate"):
                os.makedirs(path, exist_ok=True)
            elif not os.path.exists(path):
                raise StartError(
                    "ContainerCreating", f"hostPath type check failed: {path} does not exist"
                )
            return path
        if "emptyDir" in volume:
            path = os.path.join(self.volume_root, pod["metadata"]["uid"], volume["name"])
            os.makedirs(path, exist_ok=True)
            return path
        kind = next(iter(key for key in volume if key != "name"))
        raise StartError(
            "ContainerCreating",
            f"volume {volume['name']!r} of type {kind} is not modelled by the emulator",
        )

    def start(self, args: list[str]) -> str:
        """Start a container (blocking); its id, or StartError with podman's message."""
        proc = self._run(*args)
        if proc.returncode != 0:
            message = proc.stderr.strip().splitlines()[-1:] or ["podman run failed"]
            # The container may exist (created, not started): remove it with the pod.
            raise StartError("StartError", message[0])
        return proc.stdout.strip().splitlines()[-1]

    # -- observing -----------------------------------------------------------------------

    def states(self) -> dict[str, dict[str, Any]]:
        """Every container of this instance by name: state, exit code, times."""
        proc = self._run(
            "ps", "--all", "--filter", f"label={INSTANCE_LABEL}={self.instance}", "--format", "json"
        )
        if proc.returncode != 0:
            return {}
        try:
            entries = json.loads(proc.stdout or "[]")
        except json.JSONDecodeError:
            return {}
        return {entry["Names"][0]: entry for entry in entries}

    def oom_killed(self, name: str) -> bool:
        proc = self._run("inspect", "--format", "{{.State.OOMKilled}}", name)
        return proc.stdout.strip() == "true"

    def logs(self, name: str, tail: int | None = None) -> str:
        args = ["logs"]
        if tail is not None:
            args += ["--tail", str(tail)]
        proc = subprocess.run(
            [self.podman, *args, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        return proc.stdout.decode("utf8", "replace") if proc.returncode == 0 else ""

    def kill(self, names: list[str]) -> None:
        """SIGKILL and remove (the emulator grants no termination grace period)."""
        if names:
            self._run("rm", "--force", "--time=0", *names)

    def remove_all(self) -> None:
        names = list(self.states())
        self.kill(names)

    def close(self) -> None:
        self.remove_all()
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.volume_root, ignore_errors=True)


class ProcessKubelet(Kubelet):
    """Runs each container's command as a host process instead (benchmarks only).

    No isolation, no image and no mounts: hostPath volumes must already be the
    same paths on the host. It lets a benchmark run a thousand pods on a small
    machine, where a thousand podman containers would measure podman instead.
    """

    def __init__(self, instance: str, api_port: int, workers: int = 4) -> None:
        super().__init__(instance, api_port, workers=workers)
        self._procs: dict[str, tuple[subprocess.Popen, str]] = {}

    def image_present(self, image: str) -> bool:
        return True

    def run_args(
        self, pod: dict[str, Any], container: dict[str, Any], env: dict[str, str], name: str
    ) -> list[str]:
        meta = pod["metadata"]
        full_env = {
            **os.environ,
            **LOOPBACK_SAFE_ENV,
            "HOSTNAME": pod["spec"].get("hostname") or meta["name"],
            **env,
        }
        command = list(container.get("command") or []) + list(container.get("args") or [])
        return [name, json.dumps(full_env), *command]

    def start(self, args: list[str]) -> str:
        name, env_json, *command = args
        workdir = os.path.join(self.volume_root, name)
        os.makedirs(workdir, exist_ok=True)
        log_path = os.path.join(workdir, "log")
        try:
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    command,
                    cwd=workdir,
                    env=json.loads(env_json),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        except OSError as error:
            raise StartError("StartError", str(error)) from None
        self._procs[name] = (proc, log_path)
        return name

    def states(self) -> dict[str, dict[str, Any]]:
        states = {}
        for name, (proc, _) in list(self._procs.items()):
            code = proc.poll()
            states[name] = {"State": "running" if code is None else "exited", "ExitCode": code}
        return states

    def oom_killed(self, name: str) -> bool:
        return False

    def logs(self, name: str, tail: int | None = None) -> str:
        entry = self._procs.get(name)
        if entry is None:
            return ""
        with open(entry[1], errors="replace") as infile:
            lines = infile.read().splitlines(keepends=True)
        return "".join(lines[-tail:] if tail else lines)

    def kill(self, names: list[str]) -> None:
        for name in names:
            entry = self._procs.pop(name, None)
            if entry is not None and entry[0].poll() is None:
                entry[0].kill()
                entry[0].wait()
