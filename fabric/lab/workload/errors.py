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
