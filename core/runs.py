"""Run folders: long trainings (MNIST GAN, adversarial training) as separate processes the app only watches.

A Streamlit script restarts on every click, so training never runs in it. A run is a process
(`python -m core.train run <run_dir>`) that owns one folder under the runs directory:

    config.json      the validated config (the kind's Config dataclass as a dict)
    status.json      kind, status (queued/running/done/failed/cancelled), step/total, heartbeat, error, pid
    metrics.jsonl    append-only, one {"step": .., "time": .., <metric>: ..} per line
    cancel.request   written by cancel(); the trainer sees it through RunContext.should_stop()
    samples.png, checkpoint.pt, *.json   artifacts saved by the trainer (atomically)
    log.txt          the process's stdout/stderr

Many readers (every browser session, the CLI) and one writer per run; every write but the metrics append is
atomic (temporary file + os.replace), and a reader skips a half-written last metrics line. A run whose process
died reads as failed. At most ADVLAB_MAX_RUNS runs (default 1) train at once per device; the rest stay queued,
waiting for a slot = an flock'ed file under <runs_dir>/.slots that the OS frees even if the process is killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

RUN_KINDS = ("gan", "robust")
STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_STATUSES = ("queued", "running")

HEARTBEAT_S = 0.5  # how often a run's process refreshes its heartbeat (and looks for a cancel request)
STALE_S = 45.0  # no heartbeat for this long: the process is gone (e.g. killed, or the machine rebooted)
CANCEL_GRACE_S = 1.2  # a trainer that ignores should_stop() this long after a cancel is stopped by force

CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
CANCEL_FILE = "cancel.request"
LOG_FILE = "log.txt"
LAUNCH_FILE = "launch.json"
_RESERVED = {CONFIG_FILE, STATUS_FILE, METRICS_FILE, CANCEL_FILE, LOG_FILE, LAUNCH_FILE}

_RUN_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_NAME_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


# -- where runs live, and which names are allowed --------------------------------------------------------
def default_runs_dir() -> Path:
    """$ADVLAB_RUNS_DIR, or <repo>/runs."""
    env = os.environ.get("ADVLAB_RUNS_DIR")
    return Path(env).expanduser().resolve() if env else ROOT / "runs"


def _runs_dir(runs_dir: Path | str | None) -> Path:
    return Path(runs_dir).expanduser().resolve() if runs_dir is not None else default_runs_dir()


def check_run_id(run_id: Any) -> str:
    """A run id is a plain folder name (lowercase letters, digits, '-' and '_'): no path tricks."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise ValueError(
            f"run_id: {run_id!r} is not a valid run id (expected e.g. 'gan-20261124-084512-ab12')"
        )
    return run_id


def check_artifact_name(name: Any) -> str:
    """An artifact name: 'samples.png' or 'grids/step_100.png' (no '..', no absolute paths)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name: expected a file name, got {name!r}")
    parts = name.split("/")
    if len(parts) > 3 or any(not _NAME_PART.match(p) or ".." in p for p in parts):
        raise ValueError(f"name: {name!r} is not a valid artifact name (letters, digits, '_', '-', '.')")
    return name


def _run_dir(run_id: str, runs_dir: Path | str | None) -> Path:
    root = _runs_dir(runs_dir)
    path = root / check_run_id(run_id)
    if not (path / STATUS_FILE).is_file():
        raise ValueError(f"run_id: no run {run_id!r} in {root}")
    return path


# -- small file helpers ----------------------------------------------------------------------------------
def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _json_safe(obj: Any) -> Any:
    """JSON has no NaN/inf: store them as null so every reader can parse the file."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _write_json(path: Path, obj: dict) -> None:
    _atomic_write_bytes(path, json.dumps(_json_safe(obj), indent=1, allow_nan=False).encode())


def _read_json(path: Path) -> dict | None:
    try:
        obj = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (a killed child not yet reaped by its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


# -- reading runs ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunInfo:
    """One run as read from its folder (a snapshot; read again to refresh)."""

    run_id: str
    kind: str
    status: str
    config: dict
    path: Path
    created: float
    started: float | None
    finished: float | None
    heartbeat: float | None
    step: int
    total: int
    error: str | None
    device: str | None
    pid: int | None
    pace_since: float | None = None  # time of the first progress() call, and its step: the ETA's reference
    pace_step: int = 0

    @property
    def is_active(self) -> bool:
        """Queued or running: worth polling."""
        return self.status in ACTIVE_STATUSES

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the average speed so far (None before the first step or when not running)."""
        if self.status != "running" or self.started is None or self.step <= 0 or self.total <= 0:
            return None
        # Timed from the first reported step, so a slow setup (loading data, a judge network) is not
        # mistaken for slow steps.
        t0, step0 = (self.pace_since, self.pace_step) if self.pace_since is not None else (self.started, 0)
        if self.step <= step0:
            return None
        elapsed = max((self.heartbeat or time.time()) - t0, 0.0)
        return elapsed / (self.step - step0) * max(self.total - self.step, 0)

    @property
    def fraction(self) -> float:
        """step/total in [0, 1]."""
        return min(max(self.step / self.total, 0.0), 1.0) if self.total > 0 else 0.0

    @property
    def elapsed_s(self) -> float | None:
        """Seconds spent training so far (or in total, once finished)."""
        if self.started is None:
            return None
        end = self.finished or (self.heartbeat if not self.is_active else time.time())
        return max((end or self.started) - self.started, 0.0)


def _liveness_error(path: Path, st: dict, now: float) -> str | None:
    """Why an active-looking run is in fact dead, or None if it is alive."""
    pid, host = st.get("pid"), st.get("host")
    if pid is None:  # launched but its process has not written yet: check the launcher's record
        launched = _read_json(path / LAUNCH_FILE) or {}
        pid, host = launched.get("pid"), launched.get("host")
    beat = st.get("heartbeat") or st.get("created") or 0.0
    if isinstance(pid, int) and host == socket.gethostname() and not _pid_alive(pid):
        return f"the run's process (pid {pid}) ended without reporting a result — killed or crashed"
    if now - float(beat) > STALE_S:
        return f"no heartbeat for {now - float(beat):.0f} s — the run's process is gone"
    return None


_json_cache: dict[Path, tuple[int, int, dict | None]] = {}


def _read_json_cached(path: Path) -> dict | None:
    """_read_json, parsed again only when the file changed: many sessions poll the same folders every second."""
    try:
        stat = path.stat()
    except OSError:
        return None
    hit = _json_cache.get(path)
    if hit and hit[0] == stat.st_mtime_ns and hit[1] == stat.st_size:
        return dict(hit[2]) if hit[2] is not None else None
    obj = _read_json(path)
    _json_cache[path] = (stat.st_mtime_ns, stat.st_size, obj)
    return dict(obj) if obj is not None else None


def _info_from_dir(path: Path, now: float | None = None) -> RunInfo | None:
    st = _read_json_cached(path / STATUS_FILE)
    cfg = _read_json_cached(path / CONFIG_FILE)
    if st is None:
        if cfg is None or not (path / STATUS_FILE).exists():
            return None  # not a run folder, or one still being created
        # Writes are atomic, so this is damage from outside; show it rather than hide the run.
        st = {"status": "failed", "error": "status.json is unreadable (damaged file)"}
    cfg = cfg or {}
    status = st.get("status") if st.get("status") in STATUSES else "failed"
    error = st.get("error")
    if status in ACTIVE_STATUSES:
        reason = _liveness_error(path, st, time.time() if now is None else now)
        if reason:
            status, error = "failed", reason

    def num(key: str) -> float | None:
        v = st.get(key)
        return float(v) if isinstance(v, int | float) else None

    return RunInfo(
        run_id=path.name,
        kind=str(st.get("kind") or path.name.split("-")[0]),
        status=status,
        config=cfg,
        path=path,
        created=num("created") or path.stat().st_mtime,
        started=num("started"),
        finished=num("finished"),
        heartbeat=num("heartbeat"),
        step=int(st.get("step") or 0),
        total=int(st.get("total") or 0),
        error=error,
        device=st.get("device"),
        pid=st.get("pid") if isinstance(st.get("pid"), int) else None,
        pace_since=num("pace_since"),
        pace_step=int(st.get("pace_step") or 0),
    )


_children: list[subprocess.Popen] = []


def _reap_children() -> None:
    """Collect exit codes of runs this process launched, so a killed one does not linger as a zombie."""
    for proc in list(_children):
        if proc.poll() is not None:
            _children.remove(proc)


def list_runs(runs_dir: Path | str | None = None, kind: str | None = None) -> list[RunInfo]:
    """Every run in the runs directory (optionally of one kind), newest first."""
    _reap_children()
    root = _runs_dir(runs_dir)
    if not root.is_dir():
        return []
    now = time.time()
    out = []
    for path in root.iterdir():
        if path.name.startswith(".") or not _RUN_ID.match(path.name) or not path.is_dir():
            continue
        info = _info_from_dir(path, now)
        if info is not None and (kind is None or info.kind == kind):
            out.append(info)
    return sorted(out, key=lambda r: (r.created, r.run_id), reverse=True)


def get_run(run_id: str, runs_dir: Path | str | None = None) -> RunInfo:
    """One run; a malformed or unknown id is a ValueError('run_id: ...')."""
    _reap_children()
    info = _info_from_dir(_run_dir(run_id, runs_dir))
    if info is None:
        raise ValueError(f"run_id: the status of run {run_id!r} cannot be read")
    return info


_metrics_cache: dict[Path, tuple[int, int, list[dict]]] = {}


def read_metrics(run_id: str, runs_dir: Path | str | None = None) -> list[dict]:
    """The run's metrics lines as dicts, in order; a half-written last line (the writer is mid-append) is skipped."""
    path = _run_dir(run_id, runs_dir) / METRICS_FILE
    try:
        stat = path.stat()
    except FileNotFoundError:
        return []
    cached = _metrics_cache.get(path)
    if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
        return list(cached[2])
    with open(path, "rb") as f:
        data = f.read()
    rows = []
    complete = data[: data.rfind(b"\n") + 1]  # only lines the writer has finished
    for line in complete.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int | float):
            rows.append(row)
    _metrics_cache[path] = (len(data), stat.st_mtime_ns, rows)
    return list(rows)


NOT_METRICS = ("step", "time", "epoch")  # bookkeeping: a curve of the epoch counter against step says nothing

# What a teacher compares first, by kind of run: robust accuracy (adversarial training), the MNIST score (GAN).
HEADLINE_METRICS = ("robust_acc", "mnist_score", "clean_acc", "mnist_fd", "loss_d", "loss")


def metric_names(rows: list[dict]) -> list[str]:
    """Names of the numeric metrics present in metrics rows (besides step, time and epoch), in first-seen order."""
    names: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if key not in NOT_METRICS and isinstance(value, int | float) and not isinstance(value, bool):
                names.setdefault(key, None)
    return list(names)


def headline_metric(names: list[str]) -> str | None:
    """The metric a comparison opens on: the first of HEADLINE_METRICS present, else the first logged one."""
    for name in HEADLINE_METRICS:
        if name in names:
            return name
    return names[0] if names else None


def metric_series(rows: list[dict], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one metric, leaving out rows without it and non-finite values (never plot a NaN)."""
    pairs = [
        (r["step"], r[name])
        for r in rows
        if isinstance(r.get(name), int | float)
        and not isinstance(r.get(name), bool)
        and math.isfinite(r[name])
    ]
    steps = np.array([p[0] for p in pairs], dtype=float)
    return steps, np.array([p[1] for p in pairs], dtype=float)


def config_differences(infos: list[RunInfo]) -> dict[str, str]:
    """For each run, 'field=value' of the config fields that differ among the runs of its kind (what tells
    them apart in a legend)."""
    out = {}
    for kind in {i.kind for i in infos}:
        same = [i for i in infos if i.kind == kind]
        keys: list[str] = []
        for info in same:
            keys += [k for k in info.config if k not in keys]
        differing = [k for k in keys if len({json.dumps(i.config.get(k), sort_keys=True) for i in same}) > 1]
        out.update({i.run_id: " ".join(f"{k}={i.config.get(k)}" for k in differing) for i in same})
    return out


def artifact_path(run_id: str, name: str, runs_dir: Path | str | None = None) -> Path:
    """Path of an artifact (e.g. 'samples.png', 'checkpoint.pt') inside the run's folder; it may not exist yet."""
    return _run_dir(run_id, runs_dir) / check_artifact_name(name)


def cancel(run_id: str, runs_dir: Path | str | None = None) -> None:
    """Ask a run to stop: the trainer sees it through should_stop(), and is stopped by force 1.2 s later."""
    path = _run_dir(run_id, runs_dir)
    _atomic_write_bytes(path / CANCEL_FILE, json.dumps({"time": time.time()}).encode())


def read_checkpoint(path: Path | str, keys: tuple[str, ...], what: str) -> dict:
    """A checkpoint written by RunContext.save_checkpoint, loaded on the CPU with weights_only=True (plain tensors
    and containers only: no code runs); ValueError naming `path` when it is missing or lacks one of `keys`."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no checkpoint at {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or any(k not in state for k in keys):
        raise ValueError(f"path: {path.name} is not a {what} checkpoint")
    return state


# -- creating and launching runs -------------------------------------------------------------------------
def build_config(kind: str, config: dict | None = None) -> Any:
    """The kind's Config dataclass built from a dict: unknown fields and bad values are ValueErrors."""
    from core.train import trainer_for

    config_cls, _ = trainer_for(kind)
    config = dict(config or {})
    known = {f.name for f in fields(config_cls)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(
            f"config: unknown field(s) {', '.join(unknown)} for kind {kind!r}; fields are {', '.join(sorted(known))}"
        )
    try:
        return config_cls(**config)
    except TypeError as err:
        raise ValueError(f"config: {err}") from None


def new_run_id(kind: str) -> str:
    """'<kind>-YYYYmmdd-HHMMSS-<4 hex>' (UTC): sorts by time, unique, safe as a folder name."""
    return check_run_id(f"{kind}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}")


def create_run(kind: str, config: dict | Any | None = None, runs_dir: Path | str | None = None) -> Path:
    """Validate the config and create the run folder (config.json, status.json = queued); returns its path."""
    cfg = config if is_dataclass(config) and not isinstance(config, type) else build_config(kind, config)
    if is_dataclass(config):
        build_config(kind, asdict(cfg))  # the same checks for a ready-made Config instance
    root = _runs_dir(runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    while True:
        run_id = new_run_id(kind)
        path = root / run_id
        try:
            path.mkdir()
            break
        except FileExistsError:
            continue
    now = time.time()
    _write_json(path / CONFIG_FILE, asdict(cfg))
    _write_json(
        path / STATUS_FILE,
        {"run_id": run_id, "kind": kind, "status": "queued", "created": now, "heartbeat": now, "step": 0,
         "total": 0, "error": None, "device": None, "pid": None, "host": socket.gethostname()},
    )  # fmt: skip
    return path


def launch(kind: str, config: dict | None = None, runs_dir: Path | str | None = None) -> str:
    """Validate, create the run folder and start `python -m core.train run <run_dir>` detached; returns run_id."""
    path = create_run(kind, config, runs_dir)
    log = open(path / LOG_FILE, "ab")  # the child keeps writing to it
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "core.train", "run", str(path)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a reload or Ctrl-C of the app does not take the run down with it
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    finally:
        log.close()
    _children.append(proc)
    # status.json has one writer (the run's process); the launcher's pid goes to its own file so a child that
    # dies before writing anything is still seen as dead.
    _write_json(path / LAUNCH_FILE, {"pid": proc.pid, "host": socket.gethostname(), "time": time.time()})
    return path.name


# -- inside the run's own process ------------------------------------------------------------------------
def max_runs_per_device() -> int:
    """ADVLAB_MAX_RUNS (default 1): how many runs may train at once on one device."""
    raw = os.environ.get("ADVLAB_MAX_RUNS", "1")
    try:
        n = int(raw)
    except ValueError:
        raise ValueError(f"ADVLAB_MAX_RUNS: expected a positive integer, got {raw!r}") from None
    if n < 1:
        raise ValueError(f"ADVLAB_MAX_RUNS: expected a positive integer, got {raw!r}")
    return n


def _slot_names(device_name: str) -> list[tuple[str, int | None]]:
    """(slot file stem, GPU index) candidates for a device setting: N per GPU, N for the CPU (or MPS)."""
    n = max_runs_per_device()
    if device_name == "cpu":
        return [(f"cpu-{i}", None) for i in range(n)]
    from core.device import resolve_device

    dev = resolve_device(device_name)
    if dev.type == "cuda":
        import torch

        return [(f"cuda{g}-{i}", g) for g in range(torch.cuda.device_count()) for i in range(n)]
    return [(f"{dev.type}-{i}", None) for i in range(n)]


class RunCancelled(Exception):
    """Raised inside a run's process when a cancel request arrives while it waits in the queue."""


@dataclass
class RunContext:
    """What a trainer gets inside the run's own process: where to write, which device, whether to stop."""

    run_dir: Path
    run_id: str
    device_name: str = "cpu"
    verbose: bool = False
    _status: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _last_print: float = 0.0
    _last_write: float = 0.0

    @property
    def device(self):  # -> torch.device (torch imported only when a trainer asks)
        """The torch.device this run trains on (a free GPU of the machine when there are several)."""
        import torch

        return torch.device(self.device_name)

    def _write_status(self, **changes: Any) -> None:
        with self._lock:
            self._status.update(changes)
            _write_json(self.run_dir / STATUS_FILE, self._status)

    def log(self, step: int, **metrics: float) -> None:
        """Append one line {"step": step, "time": now, **metrics} to metrics.jsonl (non-finite values -> null)."""
        row = {"step": int(step), "time": round(time.time(), 3)}
        for key, value in metrics.items():
            if hasattr(value, "item"):
                value = value.item()
            row[key] = value
        line = json.dumps(_json_safe(row), allow_nan=False) + "\n"
        # One write() of a whole line in append mode: readers see complete lines or a tail they skip.
        with open(self.run_dir / METRICS_FILE, "a") as f:
            f.write(line)

    def progress(self, step: int, total: int) -> None:
        """Record step/total and a heartbeat in status.json (and print a line now and then in the foreground)."""
        now = time.time()
        with self._lock:
            self._status.update(step=int(step), total=int(total), heartbeat=now)
            self._status.setdefault("pace_since", now)
            self._status.setdefault("pace_step", int(step))
        if (
            now - self._last_write > 0.25 or step >= total
        ):  # not 1000 status files a second for a fast trainer
            self._last_write = now
            self._write_status()
        if self.verbose and (now - self._last_print > 2.0 or step >= total):
            self._last_print = now
            info = _info_from_dir(self.run_dir)
            eta = f" · ETA {info.eta_s:.0f} s" if info and info.eta_s is not None else ""
            print(f"[{self.run_id}] step {step}/{total}{eta}", flush=True)

    def should_stop(self) -> bool:
        """True once cancel() was called for this run (cheap: one stat of a file)."""
        if not self._stop.is_set() and (self.run_dir / CANCEL_FILE).exists():
            self._stop.set()
        return self._stop.is_set()

    def save_checkpoint(self, state: dict, name: str = "checkpoint.pt") -> None:
        """Atomic torch.save of a dict of state dicts (load it with torch.load(..., weights_only=True))."""
        import io

        import torch

        buf = io.BytesIO()
        torch.save(state, buf)
        _atomic_write_bytes(self._artifact(name), buf.getvalue())

    def save_image(self, name: str, image: np.ndarray) -> None:
        """A uint8 [H, W] (grey) or [H, W, 3] (RGB) array as a PNG, written atomically."""
        import io

        from PIL import Image

        arr = np.asarray(image)
        if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
            raise ValueError(f"image: expected uint8 [H,W] or [H,W,3], got {arr.dtype} {arr.shape}")
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        _atomic_write_bytes(self._artifact(name), buf.getvalue())

    def save_json(self, name: str, obj: dict) -> None:
        """A JSON artifact (e.g. final evaluation results), written atomically."""
        _write_json(self._artifact(name), obj)

    def _artifact(self, name: str) -> Path:
        check_artifact_name(name)
        if name in _RESERVED:
            raise ValueError(f"name: {name!r} is reserved for the run manager")
        return self.run_dir / name


def _heartbeat_loop(ctx: RunContext, done: threading.Event) -> None:
    """Keep the heartbeat fresh even during a long step; stop a trainer that ignores a cancel request."""
    deadline = None  # wall-clock time by which a cancelled run must be gone
    last_beat = 0.0
    while not done.wait(HEARTBEAT_S if deadline is None else 0.05):
        now = time.time()
        if now - last_beat >= HEARTBEAT_S:
            last_beat = now
            with contextlib.suppress(OSError):
                ctx._write_status(heartbeat=now)
        if deadline is None and ctx.should_stop():
            # Count the grace from when cancel() was called (its file says), not from when we noticed.
            asked = (_read_json(ctx.run_dir / CANCEL_FILE) or {}).get("time")
            asked = asked if isinstance(asked, int | float) and asked <= now else now
            deadline = asked + CANCEL_GRACE_S
        if deadline is not None and now > deadline and ctx._status.get("status") == "running":
            # The trainer did not return in time: the promise is "cancel takes effect within 2 s".
            with contextlib.suppress(OSError):
                ctx._write_status(
                    status="cancelled", finished=now, error="cancelled by the user (forced stop)"
                )
            os._exit(0)


def _older_run_waiting(ctx: RunContext, root: Path, pool: str) -> bool:
    """Is a live run, queued earlier for the same device pool, still waiting? Then it goes first."""
    mine = (ctx._status.get("created") or 0.0, ctx.run_id)
    for info in list_runs(root):
        if info.status == "queued" and info.run_id != ctx.run_id and (info.created, info.run_id) < mine:
            st = _read_json(info.path / STATUS_FILE) or {}
            if st.get("pool") == pool:
                return True
    return False


def _acquire_slot(ctx: RunContext, root: Path, device_name: str) -> tuple[int, int | None]:
    """Wait (queued) until one of the device's slot files can be flock'ed; returns (fd, gpu index)."""
    slots = root / ".slots"
    slots.mkdir(parents=True, exist_ok=True)
    names = _slot_names(device_name)
    if not names:
        raise RuntimeError("no CUDA device is visible to this process")
    pool = "cuda" if names[0][1] is not None else names[0][0].rsplit("-", 1)[0]  # cpu, cuda or mps
    ctx._write_status(pool=pool)
    while True:
        if ctx.should_stop():
            raise RunCancelled
        if _older_run_waiting(ctx, root, pool):  # first come, first served
            time.sleep(0.2)
            continue
        for stem, gpu in names:
            fd = os.open(slots / f"{stem}.lock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return fd, gpu
        time.sleep(0.2)


def execute_run(run_dir: Path | str, verbose: bool = False) -> str:
    """Run an already-created run in this process: queue for a slot, train, record the outcome; returns it."""
    from core.train import trainer_for

    run_dir = Path(run_dir).resolve()
    status = _read_json(run_dir / STATUS_FILE)
    raw_config = _read_json(run_dir / CONFIG_FILE)
    if status is None or raw_config is None:
        raise ValueError(f"run_dir: {run_dir} is not a run folder (config.json/status.json missing)")
    if status.get("status") != "queued":
        raise ValueError(f"run_dir: run {run_dir.name} is {status.get('status')}, not queued")
    ctx = RunContext(run_dir=run_dir, run_id=run_dir.name, verbose=verbose, _status=status)
    ctx._write_status(pid=os.getpid(), host=socket.gethostname(), heartbeat=time.time())

    def on_signal(signum, frame):  # SIGTERM / Ctrl-C: a polite cancel, like the app's button
        cancel(run_dir.name, run_dir.parent)

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):  # only possible in the main thread
            signal.signal(sig, on_signal)

    done = threading.Event()
    beat = threading.Thread(target=_heartbeat_loop, args=(ctx, done), daemon=True)
    beat.start()
    slot_fd = None
    try:
        kind = status.get("kind") or run_dir.name.split("-")[0]
        config_cls, train_fn = trainer_for(kind)
        cfg = build_config(kind, raw_config)
        device_name = getattr(cfg, "device", "cpu")
        slot_fd, gpu = _acquire_slot(ctx, run_dir.parent, device_name)
        if gpu is not None:
            ctx.device_name = f"cuda:{gpu}"
        elif device_name != "cpu":
            from core.device import resolve_device

            ctx.device_name = str(resolve_device(device_name))
        ctx._write_status(status="running", started=time.time(), device=ctx.device_name)
        if verbose:
            print(f"[{ctx.run_id}] running {kind} on {ctx.device_name} in {run_dir}", flush=True)
        train_fn(cfg, ctx)
        outcome = "cancelled" if ctx.should_stop() else "done"
        ctx._write_status(status=outcome, finished=time.time(), error="cancelled by the user" if outcome == "cancelled" else None)  # fmt: skip
    except RunCancelled:
        outcome = "cancelled"
        ctx._write_status(status=outcome, finished=time.time(), error="cancelled while queued")
    except BaseException as err:  # any failure must end as a readable 'failed' status
        outcome = "failed"
        traceback.print_exc()
        message = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        ctx._write_status(status=outcome, finished=time.time(), error=message)
        if not isinstance(err, Exception):
            raise
    finally:
        done.set()
        beat.join(timeout=2)
        if slot_fd is not None:
            os.close(slot_fd)  # releases the flock: the next queued run starts
    if verbose:
        final = _read_json(run_dir / STATUS_FILE) or {}
        print(
            f"[{ctx.run_id}] {outcome}" + (f": {final.get('error')}" if final.get("error") else ""),
            flush=True,
        )
    return outcome
