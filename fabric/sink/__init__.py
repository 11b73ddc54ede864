"""Where samples go: ``influx`` (InfluxDB v2 write API with an on-disk spool), ``jsonl:PATH``,
``lineprotocol:PATH``, ``stdout``. Several at once through :func:`open_sinks`."""

from __future__ import annotations

from fabric.sink.base import Sink, SinkError, open_sinks

__all__ = ["Sink", "SinkError", "open_sinks"]
