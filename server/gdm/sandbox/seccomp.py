"""The seccomp filter every sandboxed command runs under, as a classic BPF program for `bwrap --seccomp`.

A read-only bind does not stop `connect()` to a unix socket that is visible in it (measured: a
socket outside stays connectable), and a socket can sit anywhere: tmux's and Emacs's servers in
/tmp, the docker socket in /run, ssh and gpg agents in the home. Like Anthropic's sandbox-runtime,
the filter refuses to create unix sockets at all (`socket(AF_UNIX, …)` fails with EPERM);
`socketpair()` stays allowed, so pipes between a command's own processes (asyncio's self-pipe, node's
stdio) keep working. It also refuses `io_uring_setup` (io_uring can open and connect sockets without
passing through these syscall checks) and every x32 system call (the same numbers with bit 30 set,
which would slip past a check on the plain number). A 32-bit process on x86-64 gets `socketcall`
and `socket(AF_UNIX)` refused the same way. Any other architecture is killed: a filter that does not
know its numbers must not guess.

The program is data: `program()` returns the bytes bwrap reads (`struct sock_filter` entries:
u16 code, u8 jt, u8 jf, u32 k), built by a tiny assembler with labels so that no jump offset is
counted by hand.
"""

from __future__ import annotations

import errno
import platform
import struct
from dataclasses import dataclass

# BPF opcodes (linux/filter.h, linux/bpf_common.h)
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
# seccomp return values (linux/seccomp.h)
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
# offsets in struct seccomp_data: nr (int), arch (u32), instruction_pointer (u64), args[6] (u64)
_NR, _ARCH, _ARG0 = 0, 4, 16
AF_UNIX = 1
X32_BIT = 0x40000000


@dataclass(frozen=True)
class Arch:
    """One architecture's audit id and the numbers of the system calls the filter refuses."""

    audit: int
    socket: int
    io_uring_setup: int
    socketcall: int | None = None  # i386 multiplexes the socket calls through one
    x32: bool = False


X86_64 = Arch(0xC000003E, socket=41, io_uring_setup=425, x32=True)
I386 = Arch(0x40000003, socket=359, io_uring_setup=425, socketcall=102)
AARCH64 = Arch(0xC00000B7, socket=198, io_uring_setup=425)
ARM = Arch(0x40000028, socket=281, io_uring_setup=425)
# the architectures a process on this machine can run as: the native one first
NATIVE = {"x86_64": (X86_64, I386), "aarch64": (AARCH64, ARM), "arm64": (AARCH64, ARM)}


class _Program:
    """A BPF program under construction: instructions with symbolic jump targets."""

    def __init__(self) -> None:
        self.ops: list[tuple[int, int, str | None, str | None]] = []
        self.labels: dict[str, int] = {}

    def load(self, offset: int) -> None:
        self.ops.append((_LD_W_ABS, offset, None, None))

    def jump(self, op: int, k: int, if_true: str | None, if_false: str | None) -> None:
        """Compare the accumulator with `k`; None as a target means the next instruction."""
        self.ops.append((op, k, if_true, if_false))

    def ret(self, value: int) -> None:
        self.ops.append((_RET_K, value, None, None))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.ops)

    def assemble(self) -> bytes:
        out = bytearray()
        for index, (code, k, if_true, if_false) in enumerate(self.ops):
            out += struct.pack("<HBBI", code, self._offset(index, if_true), self._offset(index, if_false), k)
        return bytes(out)

    def _offset(self, index: int, target: str | None) -> int:
        if target is None:
            return 0
        offset = self.labels[target] - index - 1
        if not 0 <= offset <= 255:
            raise ValueError(f"seccomp: jump to {target} out of range ({offset})")
        return offset


def program(machine: str | None = None) -> bytes:
    """The filter for this machine's architectures (`platform.machine()` unless given)."""
    arches = NATIVE.get((machine or platform.machine()).lower())
    if arches is None:
        raise ValueError(f"no seccomp filter for the architecture {machine or platform.machine()!r}")
    deny = RET_ERRNO | errno.EPERM
    p = _Program()
    p.load(_ARCH)
    for arch in arches:
        p.jump(_JEQ_K, arch.audit, f"arch{arch.audit}", None)
    p.ret(RET_KILL_PROCESS)
    for arch in arches:
        p.label(f"arch{arch.audit}")
        p.load(_NR)
        if arch.x32:
            p.jump(_JGE_K, X32_BIT, "deny", None)
        p.jump(_JEQ_K, arch.io_uring_setup, "deny", None)
        if arch.socketcall is not None:
            p.jump(_JEQ_K, arch.socketcall, "deny", None)
        p.jump(_JEQ_K, arch.socket, f"socket{arch.audit}", "allow")
        p.label(f"socket{arch.audit}")
        p.load(_ARG0)
        p.jump(_JEQ_K, AF_UNIX, "deny", "allow")
    p.label("deny")
    p.ret(deny)
    p.label("allow")
    p.ret(RET_ALLOW)
    return p.assemble()
