"""linux_mlx5: a GPU server's bash-like shell (plumbing skeleton; the host commands come next)."""

from __future__ import annotations

from fabric.lab.dialects.base import Dialect, EndSession


class LinuxHostDialect(Dialect):
    """``user@host:~$`` shell."""

    def prompt(self) -> str:
        return f"{self.username}@{self.device.name}:~$ "

    def handle(self, line: str) -> str:
        words = line.split()
        if not words:
            return ""
        if words[0] in ("exit", "logout"):
            raise EndSession
        if words[0] == "hostname":
            return self.device.name
        if words[0] == "echo":
            return " ".join(words[1:])
        return f"-bash: {words[0]}: command not found"
