"""The sink contract and the file/stdout sinks; ``open_sinks`` parses ``--sink`` specs."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Protocol

from fabric.core.sample import Sample
from fabric.sink.lineprotocol import LineEncoder

log = logging.getLogger("fabric.sink")


class SinkError(Exception):
    """A sink spec or destination that cannot be used (message names the spec and the fix)."""


class Sink(Protocol):
    """``write`` takes one cycle's samples (a list, never a generator: see toolchain.md's silent-loss note)."""

    def write(self, samples: list[Sample]) -> None: ...

    def close(self) -> None: ...

    def health(self) -> dict[str, int]: ...


class _FileSink:
    """A file or stdout. A write that fails (a full disk, a reader that went away) loses that cycle's points for
    this sink only: counted in ``dropped``, logged once per reason, and the other sinks and the next cycles go
    on. A file is written with one ``write`` per cycle and cut back on failure, so its lines stay whole."""

    def __init__(self, stream: IO[str], owned: bool, name: str = "stdout") -> None:
        self.stream, self.owned, self.name = stream, owned, name
        self.written = self.dropped = 0
        self.gone = False  # a pipe whose reader left: nothing this sink writes will be read
        self._why: str | None = None

    def _format(self, sample: Sample) -> str:
        raise NotImplementedError

    def write(self, samples: list[Sample]) -> None:
        text = "".join(self._format(s) + "\n" for s in samples)
        try:
            self._put(text)
        except OSError as exc:
            self.dropped += len(samples)
            why = exc.strerror or type(exc).__name__
            if isinstance(exc, BrokenPipeError) and not self.owned:  # the reader of a pipe went away (| head)
                with contextlib.suppress(OSError, ValueError):  # no second error when Python flushes it at exit
                    os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
                if not self.gone:
                    log.warning("sink %s: the reader closed the pipe; it gets nothing more", self.name)
                self.gone = True
                return
            if why != self._why:
                log.error("sink %s: cannot write (%s); %d points lost so far, the other sinks go on", self.name, why,
                          self.dropped)
                self._why = why
            return
        if self._why is not None:
            log.warning("sink %s: writes work again (%d points were lost)", self.name, self.dropped)
            self._why = None
        self.written += len(samples)

    def _put(self, text: str) -> None:
        if not self.owned:
            self.stream.write(text)
            self.stream.flush()
            return
        fd, data = self.stream.fileno(), memoryview(text.encode("utf-8"))
        try:
            start: int | None = os.lseek(fd, 0, os.SEEK_END)
        except OSError:  # a pipe or a terminal (jsonl:/dev/stdout): nothing to cut back
            start = None
        try:
            while data:
                data = data[os.write(fd, data):]
        except OSError:
            if start is not None:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)  # no half line for the next cycle to continue
            raise

    def close(self) -> None:
        if self.owned:
            self.stream.close()

    def health(self) -> dict[str, int]:
        return {"written": self.written, "sink_dropped": self.dropped, "gone": int(self.gone)}


class JsonlSink(_FileSink):
    """One JSON object per line: ``{"measurement", "tags", "fields", "ts_ns"}``."""

    def _format(self, sample: Sample) -> str:
        return json.dumps(sample.as_dict(), separators=(",", ":"))


class LineProtocolSink(_FileSink):
    """InfluxDB line protocol, loadable later with ``influx write`` or a plain POST."""

    def __init__(self, stream: IO[str], owned: bool, name: str = "stdout") -> None:
        super().__init__(stream, owned, name)
        self.encoder = LineEncoder()

    def _format(self, sample: Sample) -> str:
        return self.encoder.line(sample)


def _open(path: str) -> IO[str]:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a", encoding="utf-8")
    except OSError as exc:
        raise SinkError(f"sink {path}: {exc.strerror}; pass a writable path") from exc


def open_sinks(specs: list[str], env: Mapping[str, str], influx_options: Mapping[str, str | None]) -> list[Sink]:
    """``influx``, ``jsonl:PATH``, ``lineprotocol:PATH``, ``stdout`` -> sinks; unknown specs raise SinkError."""
    sinks: list[Sink] = []
    for spec in specs:
        kind, _, arg = spec.partition(":")
        if kind == "stdout" and not arg:
            sinks.append(LineProtocolSink(sys.stdout, owned=False))
        elif kind == "jsonl" and arg:
            sinks.append(JsonlSink(_open(arg), owned=True, name=spec))
        elif kind == "lineprotocol" and arg:
            sinks.append(LineProtocolSink(_open(arg), owned=True, name=spec))
        elif kind == "influx" and not arg:
            from fabric.sink.influx import InfluxSink

            sinks.append(InfluxSink.from_settings(env, influx_options))
        else:
            raise SinkError(f"--sink {spec}: unknown sink; use influx, jsonl:PATH, lineprotocol:PATH or stdout")
    return sinks
