"""Telemetry collection (DESIGN §7): sources turn device counters into raw :class:`fabric.core.sample.Sample`s,
``process`` derives rates across wraps and resets, ``alerts`` judges them, ``fabric.sink`` writes them."""
