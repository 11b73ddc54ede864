"""A bounded on-disk FIFO of line-protocol batches: one file per batch, named by a monotonically increasing
sequence number, so replay is in write order and survives a collector restart. Over the bound, the oldest
batches are dropped and their points counted (never silently)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path

log = logging.getLogger("fabric.sink.influx")


class Spool:
    """Not thread-safe: its owner serialises the calls (the InfluxDB sink holds its lock)."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder, self.max_bytes = folder, max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = _take(folder)
        self.dropped_points = 0
        self.error: str | None = None  # why the last push could not be written, None once one is
        found = self._files()
        self._next = int(found[-1].stem) + 1 if found else 0
        self._points = sum(_count(p) for p in found)  # kept in memory: depth() runs every cycle

    def _files(self) -> list[Path]:
        """The spooled batches, oldest first; files of other names in the folder are not ours."""
        return sorted((p for p in self.folder.glob("*.lp") if p.stem.isdigit()), key=lambda p: int(p.stem))

    def push(self, lines: list[str]) -> None:
        """Append one batch durably (write to a temp name, fsync, rename), then enforce the bound. A batch the disk
        cannot take (full, the folder gone or read-only) is dropped and counted, its reason kept in ``error``."""
        final = self.folder / f"{self._next:012d}.lp"
        temp = final.with_suffix(".tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)  # a tmp cleaner may have removed it
            with open(temp, "w", encoding="utf-8") as handle:
                handle.write("\n".join(lines))
                handle.flush()
                os.fsync(handle.fileno())
            temp.rename(final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            self.dropped_points += len(lines)
            self.error = exc.strerror or type(exc).__name__
            return
        self.error = None
        self._next += 1
        self._points += len(lines)
        files = self._files()
        total = sum(p.stat().st_size for p in files)
        while total > self.max_bytes and len(files) > 1:
            oldest = files.pop(0)
            total -= oldest.stat().st_size
            dropped = _count(oldest)
            oldest.unlink()
            self.dropped_points += dropped
            self._points -= dropped

    def batches(self) -> list[Path]:
        """Spooled batches, oldest first."""
        return self._files()

    def read(self, batch: Path) -> list[str] | None:
        """A batch's lines; None if the bound dropped it since it was listed, or if it is not text (a file damaged
        outside fabric: moved to ``rejected/`` rather than retried first in line for ever)."""
        try:
            return batch.read_text(encoding="utf-8").split("\n")
        except FileNotFoundError:
            return None
        except ValueError as exc:
            points = _count(batch)
            kept = self.set_aside([], batch)
            self._points -= points
            log.error("spool %s: %s is not line protocol text (%s); moved to %s", self.folder, batch.name,
                      type(exc).__name__, kept)
            return None

    def remove(self, batch: Path, points: int) -> None:
        """Forget a batch the server has accepted (if the bound dropped it meanwhile, it is counted there)."""
        try:
            batch.unlink()
        except FileNotFoundError:
            return
        self._points -= points

    def set_aside(self, lines: list[str], batch: Path | None = None) -> Path:
        """Keep a batch the server rejected in ``rejected/`` (out of the replay queue), taking it out of the
        spool if it was there; its path."""
        aside = self.folder / "rejected"
        aside.mkdir(exist_ok=True)
        kept = aside / f"{int(time.time() * 1000)}-{self._next:012d}.lp"
        self._next += 1
        if batch is not None and batch.exists():
            batch.rename(kept)
            self._points -= len(lines)
        else:
            kept.write_text("\n".join(lines), encoding="utf-8")
        return kept

    def close(self) -> None:
        """Let another collector take the folder."""
        with contextlib.suppress(OSError):
            os.close(self._lock)

    def depth(self) -> int:
        """Points waiting in the spool."""
        return self._points


class SpoolBusy(Exception):
    """Another process holds the spool folder."""


def _take(folder: Path) -> int:
    """An exclusive lock on the folder for this process's life: two collectors sharing a spool (two inventories
    of one user, both on the default folder) would number their batches alike, overwrite each other's and replay
    each other's."""
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise SpoolBusy(f"{folder} is in use by another fabric collect (pid {holder}); give each collector its own "
                        "--spool DIR") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _count(batch: Path) -> int:
    return batch.read_bytes().count(b"\n") + 1
