"""One telemetry point, ``(measurement, tags, fields, ts_ns)`` (DESIGN §7): what collectors produce, processing
derives from and sinks write. Kept in core so sources and sinks share it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass, field

FieldValue = int | float | str | bool


def _escape_key(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _field(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class Sample:
    """A point; tags identify the series (device, interface, priority, queue), fields carry values."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue] = field(default_factory=dict)
    ts_ns: int = 0

    def line(self) -> str:
        """InfluxDB line protocol, tags sorted (the server's canonical order, cheaper to index)."""
        tags = "".join(f",{_escape_key(k)}={_escape_key(v)}" for k, v in sorted(self.tags.items()) if v != "")
        fields = ",".join(f"{_escape_key(k)}={_field(v)}" for k, v in self.fields.items())
        return f"{_escape_key(self.measurement)}{tags} {fields} {self.ts_ns}"

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of the jsonl sink."""
        return {"measurement": self.measurement, "tags": self.tags, "fields": self.fields, "ts_ns": self.ts_ns}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Sample:
        """Inverse of :meth:`as_dict` (the spool stores samples this way)."""
        tags, fields, ts = data["tags"], data["fields"], data["ts_ns"]
        assert isinstance(tags, dict) and isinstance(fields, dict) and isinstance(ts, int)
        return cls(str(data["measurement"]), dict(tags), dict(fields), ts)
