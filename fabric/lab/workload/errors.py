"""``WorkloadError``: a workload file (or its fit to an inventory) is wrong; one line per problem."""

from __future__ import annotations

from fabric.core.problems import Problem


class WorkloadError(ValueError):
    """``str()`` is the first problem as one line, ``"workloads/x.yaml:phases[2].fan_in: must be >= 2; fix:
    ..."``; ``problems`` holds every problem found (``fabric workload check`` prints them all)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")

    @classmethod
    def at(cls, where: str, message: str, fix: str = "") -> WorkloadError:
        return cls([Problem(where, message, fix)])


MAX_FLOWS_PER_NIC_S = 1e7  # ~5x the busiest shipped mix (AliStorage 2019, 41 KB mean) at 80 % of an 800G NIC


def check_flow_rate(where: str, per_nic_s: float) -> None:
    """A phase that would start more than ``MAX_FLOWS_PER_NIC_S`` flows per second on one NIC is refused: its
    sizes or period are almost surely a slip (a 64 B mean size at 40 % of 400G is 3e8 flows/s), and drawing
    them would hold the engine for minutes per tick."""
    if per_nic_s > MAX_FLOWS_PER_NIC_S:
        raise WorkloadError.at(where, f"starts {per_nic_s:.3g} flows/s on a NIC, above the "
                               f"{MAX_FLOWS_PER_NIC_S:.0e} the twin accepts",
                               "use larger flow sizes, a lower load or a longer period")
