"""The twin's congestion engine: workload + topology + *applied* configuration -> counters.

Layers (one-way):

- ``knobs``     vendor-neutral view of what a device has actually applied (ECN, PFC, buffers, DCQCN),
                read from the twin's device state by ``fabric.lab.applied``; factory defaults otherwise.
- ``scenario``  the arrays both tiers advance: ports (one per connected interface: its egress queues and
                the ingress of the same interface), flows with their ECMP paths, per-port/queue knobs.
- ``fluid``     tier F: 1 us fluid DCQCN + RED/ECN + PFC + watchdog (reference/congestion-and-tuning.md §A.2).
- ``epoch``     tier E: 0.5-5 ms mean-field epochs, vectorised, calibrated from tier F (§A.3).
- both tiers fill a ``CounterFrame`` with the canonical counter names of ``fabric.lab.device``.
"""
