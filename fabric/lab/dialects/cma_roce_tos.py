"""MLNX_OFED's ``cma_roce_tos`` (Mellanox/mlnx-tools sbin/cma_roce_tos): the RDMA-CM default ToS of a port.

The real tool is a bash script over configfs (/sys/kernel/config/rdma_cm/<dev>/ports/<port>/default_roce_tos);
its messages, including bash's for its own lines 108/109, and its exit status 0 after a failed write, are kept.
"""

from __future__ import annotations

from fabric.lab.dialects.host_shell import Ctx, Result
from fabric.lab.dialects.host_state import RdmaDevice


def cma_roce_tos(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """cma_roce_tos [-d DEV] [-p PORT] [-t TOS]: sets (as root) and prints the RDMA-CM default ToS."""
    device, port, mode, err = "mlx5_0", "1", "-1", ""
    args = argv[1:]
    while args:
        arg = args.pop(0)
        flag, value = arg[:2], arg[2:]
        if flag in ("-d", "-p", "-t"):
            value = value or (args.pop(0) if args else "")
            device, port, mode = (value, port, mode) if flag == "-d" else (device, value, mode) if flag == "-p" \
                else (device, port, value)
        elif flag == "-h":
            return Result(out=CMA_USAGE)
        else:
            err += f"/usr/sbin/cma_roce_tos: illegal option -- {arg.lstrip('-')[:1]}\n"
    if not ctx.root:
        return Result(out="You must be root to run this\n", err=err, status=1)
    rdma = ctx.host.state.rdma.get(device)
    if rdma is None:
        return Result(out=f"Failed to create configuration for {device}\n",
                      err=err + f"mkdir: cannot create directory '{device}': No such device\n", status=1)
    if port != "1":
        return Result(out=f"Device {device} port {port} does not exist\n", err=err, status=1)
    err += _write_tos(ctx, rdma, mode)
    return Result(out=f"{rdma.roce_tos}\n", err=err, err_first=True)


def _write_tos(ctx: Ctx, rdma: RdmaDevice, mode: str) -> str:
    try:
        tos = int(mode)
    except ValueError:
        return f"/usr/sbin/cma_roce_tos: line 108: [: {mode}: integer expression expected\n"
    if tos < 0:
        return ""
    if ctx.host.rejecting:
        return "/usr/sbin/cma_roce_tos: line 109: echo: write error: Operation not permitted\n"
    if tos > 255:  # configfs default_roce_tos_store: kstrtou8
        return "/usr/sbin/cma_roce_tos: line 109: echo: write error: Numerical result out of range\n"
    rdma.roce_tos = tos
    return ""


CMA_USAGE = """Set/Show RoCE default ToS of RDMA_CM applications

Usage:
\tcma_roce_tos OPTIONS
Options:
\t-h              show this help
\t-d <dev>        use IB device <dev> (default mlx5_0)
\t-p <port>       use port <port> of IB device (default 1)
\t-t <tos>        set ToS of RoCE RDMA_CM applications (0)
"""
