"""deploy(): every device through diff -> backup -> push -> verify in a bounded worker pool, with per-device
deadlines, retries for transient connection errors only, a canary wave, rollback of a failed device to its
backup and, with ``atomic``, of every device the run changed.

The per-device deadline is checked between steps, and every read inside a step has the same limit, so a slow
device costs at most about twice its timeout and holds one worker, never the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fabric.core.liblogs import quiet_third_party_loggers
from fabric.deploy.driver import DeployError, Driver, Target, classify, first_problem
from fabric.deploy.drivers import make_driver
from fabric.deploy.store import RunStore

Event = Callable[[str, str], None]  # (device, step): progress for a bar or a log
TRANSIENT = ("unreachable", "dropped")

@dataclass
class Options:
    """How a run behaves (the CLI flags)."""

    dry_run: bool = False
    workers: int = 10
    canary: int = 0
    atomic: bool = True
    retries: int = 2
    backoff_s: float = 0.5
    on_event: Event | None = None


@dataclass
class DeviceResult:
    """One device's outcome. ``status``: unchanged, changed, would-change, failed, rolled-back, skipped,
    restored."""

    device: str
    platform: str
    status: str = "skipped"
    changed_lines: int = 0
    diff: list[str] = field(default_factory=list)
    backup: str | None = None
    seconds: float = 0.0
    reason: str = ""
    kind: str = ""
    rolled_back: bool = False


@dataclass
class RunReport:
    """A whole run: its id and folder, and every device's result."""

    run_id: str
    run_dir: Path
    results: list[DeviceResult]
    dry_run: bool = False

    @property
    def failed(self) -> list[DeviceResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def exit_code(self) -> int:
        """0 ok; 3 a device failed (rolled back); 4 the only failures are unreachable devices."""
        if any(r.kind != "unreachable" for r in self.failed):
            return 3
        return 4 if self.failed else 0

    def document(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "run_dir": str(self.run_dir), "dry_run": self.dry_run,
                "exit_code": self.exit_code,
                "changed": sum(r.status == "changed" for r in self.results),
                "failed": len(self.failed), "devices": [asdict(r) for r in self.results]}


def _emit(options: Options, store: RunStore, device: str, step: str) -> None:
    store.log(f"{device}: {step}")
    if options.on_event:
        options.on_event(device, step)


def _open(target: Target, options: Options, transient: tuple[str, ...] = TRANSIENT) -> Driver:
    """A connected driver; transient connection errors retried with exponential backoff, others not."""
    for attempt in range(options.retries + 1):
        driver = make_driver(target)
        try:
            driver.open()
            return driver
        except Exception as exc:
            error = classify(exc)
            driver.close()
            if error.kind not in transient or attempt == options.retries:
                raise error from None
            time.sleep(options.backoff_s * 2 ** attempt)
    raise AssertionError("unreachable code")


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds, self.end = seconds, time.monotonic() + seconds

    def check(self, step: str) -> None:
        if time.monotonic() > self.end:
            raise DeployError("timeout", f"timed out after {self.seconds:g} s (during {step})")


def _plan(driver: Driver, candidate: str, result: DeviceResult, store: RunStore) -> str:
    """Diff, then keep the running config that diff saw as the backup; returns the backup."""
    result.diff = driver.diff(candidate)
    result.changed_lines = len(result.diff)
    backup = driver.get_running()
    result.backup = str(store.save_backup(result.device, backup, driver.backup_suffix))
    store.save_diff(result.device, result.diff)
    return backup


def _apply(driver: Driver, candidate: str, deadline: _Deadline) -> None:
    """Push (with commit/save), then read back: anything not in force is a failure."""
    driver.push()
    deadline.check("push")
    problems = driver.verify(candidate)
    if problems:
        raise DeployError("verify", f"verification failed: {first_problem(problems)}")


def deploy_device(target: Target, candidate: str, store: RunStore, options: Options) -> DeviceResult:
    """One device, start to finish; never raises for a device-level problem. A failure once the push began
    restores the backup over a new session (the old one may be what failed)."""
    result = DeviceResult(target.device, target.platform)
    start, deadline = time.monotonic(), _Deadline(target.timeout_s)
    driver: Driver | None = None
    backup: str | None = None
    pushing = False
    try:
        _emit(options, store, target.device, "connect")
        driver = _open(target, options)
        deadline.check("connect")
        _emit(options, store, target.device, "diff")
        backup = _plan(driver, candidate, result, store)
        deadline.check("diff")
        if not result.diff or options.dry_run:
            result.status = "would-change" if result.diff else "unchanged"
        else:
            _emit(options, store, target.device, "push")
            pushing = True
            _apply(driver, candidate, deadline)
            result.status = "changed"
    except Exception as exc:
        error = classify(exc)
        result.status, result.kind, result.reason = "failed", error.kind, error.reason
        driver, dead = None, driver
        if dead is not None:
            dead.close()
        if pushing and backup is not None:
            _rollback(target, backup, result, store, options)
    finally:
        if driver is not None:
            driver.close()
        result.seconds = round(time.monotonic() - start, 2)
        _emit(options, store, target.device, result.status + (f": {result.reason}" if result.reason else ""))
    return result


def _rollback(target: Target, backup: str, result: DeviceResult, store: RunStore, options: Options) -> None:
    """Restore ``backup`` over a new session; the outcome is part of the device's reason."""
    _emit(options, store, target.device, "rollback")
    try:
        # a rollback tries harder: a slow login is worth waiting for when the device is half-configured
        driver = _open(target, Options(retries=max(options.retries, 3), backoff_s=options.backoff_s),
                       (*TRANSIENT, "timeout"))
        try:
            driver.restore(backup)
        finally:
            driver.close()
        result.rolled_back = True
        result.reason += "; rolled back to the backup"
    except Exception as exc:
        result.reason += f"; ROLLBACK FAILED: {classify(exc).reason}"


def _wave(targets: list[Target], candidates: dict[str, str], store: RunStore, options: Options) -> list[DeviceResult]:
    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        return list(pool.map(lambda t: deploy_device(t, candidates[t.device], store, options), targets))


def _atomic_rollback(results: list[DeviceResult], targets: dict[str, Target], store: RunStore,
                     options: Options) -> None:
    """Every device this run changed goes back to its backup, so the fabric never keeps mixed settings."""
    changed = [r for r in results if r.status == "changed" and r.backup]
    culprits = ", ".join(r.device for r in results if r.status == "failed")

    def undo(result: DeviceResult) -> None:
        _rollback(targets[result.device], Path(str(result.backup)).read_text(), result, store, options)
        result.status = "rolled-back" if result.rolled_back else "failed"
        if not result.rolled_back:
            result.kind = "error"
        result.reason = f"{culprits} failed (atomic){result.reason}"

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        list(pool.map(undo, changed))


def deploy(targets: list[Target], candidates: dict[str, str], runs_dir: Path, options: Options) -> RunReport:
    """Deploy ``candidates`` (device -> rendered text) to ``targets``; the canary wave first when asked."""
    quiet_third_party_loggers()
    store = RunStore.create(runs_dir)
    by_name = {t.device: t for t in targets}
    waves = [targets[:options.canary], targets[options.canary:]] if options.canary else [targets]
    results: list[DeviceResult] = []
    for number, wave in enumerate(waves):
        if results and any(r.status == "failed" for r in results):
            results += [DeviceResult(t.device, t.platform, reason="not deployed: the canary failed") for t in wave]
            continue
        if options.canary and number == 0:
            store.log(f"canary: {', '.join(t.device for t in wave)}")
        results += _wave(wave, candidates, store, options)
    if options.atomic and not options.dry_run and any(r.status == "failed" for r in results):
        _atomic_rollback(results, by_name, store, options)
    report = RunReport(store.run_id, store.path, results, options.dry_run)
    store.save_result(report.document())
    return report


def rollback_run(run_dir: Path, targets: dict[str, Target], runs_dir: Path, options: Options) -> RunReport:
    """Restore every backup of a previous run (``fabric deploy --rollback RUN_ID``) as a new run."""
    quiet_third_party_loggers()
    previous = RunStore(run_dir).load_result()
    store = RunStore.create(runs_dir)
    store.log(f"rollback of run {run_dir.name}")
    todo = [(targets[d["device"]], Path(d["backup"])) for d in previous["devices"]
            if d.get("backup") and d["device"] in targets and Path(d["backup"]).exists()]

    def restore(item: tuple[Target, Path]) -> DeviceResult:
        target, backup = item
        result = DeviceResult(target.device, target.platform, backup=str(backup))
        start = time.monotonic()
        _rollback(target, backup.read_text(), result, store, options)
        result.status = "restored" if result.rolled_back else "failed"
        result.kind = "" if result.rolled_back else "error"
        result.reason = "" if result.rolled_back else result.reason.lstrip("; ")
        result.seconds = round(time.monotonic() - start, 2)
        return result

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        results = list(pool.map(restore, todo))
    report = RunReport(store.run_id, store.path, results)
    store.save_result(report.document())
    return report
