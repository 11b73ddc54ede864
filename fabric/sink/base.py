"""The sink contract and the file/stdout sinks; ``open_sinks`` parses ``--sink`` specs."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Protocol

from fabric.core.sample import Sample
from fabric.sink.lineprotocol import LineEncoder


class SinkError(Exception):
    """A sink spec or destination that cannot be used (message names the spec and the fix)."""


class Sink(Protocol):
    """``write`` takes one cycle's samples (a list, never a generator: see toolchain.md's silent-loss note)."""

    def write(self, samples: list[Sample]) -> None: ...

    def close(self) -> None: ...

    def health(self) -> dict[str, int]: ...


class _FileSink:
    def __init__(self, stream: IO[str], owned: bool) -> None:
        self.stream, self.owned, self.written = stream, owned, 0

    def _format(self, sample: Sample) -> str:
        raise NotImplementedError

    def write(self, samples: list[Sample]) -> None:
        self.stream.write("".join(self._format(s) + "\n" for s in samples))
        self.stream.flush()
        self.written += len(samples)

    def close(self) -> None:
        if self.owned:
            self.stream.close()

    def health(self) -> dict[str, int]:
        return {"written": self.written}


class JsonlSink(_FileSink):
    """One JSON object per line: ``{"measurement", "tags", "fields", "ts_ns"}``."""

    def _format(self, sample: Sample) -> str:
        return json.dumps(sample.as_dict(), separators=(",", ":"))


class LineProtocolSink(_FileSink):
    """InfluxDB line protocol, loadable later with ``influx write`` or a plain POST."""

    def __init__(self, stream: IO[str], owned: bool) -> None:
        super().__init__(stream, owned)
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
            sinks.append(JsonlSink(_open(arg), owned=True))
        elif kind == "lineprotocol" and arg:
            sinks.append(LineProtocolSink(_open(arg), owned=True))
        elif kind == "influx" and not arg:
            from fabric.sink.influx import InfluxSink

            sinks.append(InfluxSink.from_settings(env, influx_options))
        else:
            raise SinkError(f"--sink {spec}: unknown sink; use influx, jsonl:PATH, lineprotocol:PATH or stdout")
    return sinks
