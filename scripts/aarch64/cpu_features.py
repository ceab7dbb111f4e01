"""The CPU features that select ONNX Runtime's aarch64 kernels, as this process sees them (emulated or native).

MLAS (ORT's kernel library) chooses its int8 GEMM by the kernel's hwcaps: I8MM (usmmla/smmla) first, then the
dot-product instructions (udot/sdot), else plain NEON (widening multiply-accumulate into int32); FP16 arithmetic
(fphp/asimdhp) enables its half-precision kernels. Under qemu-user the hwcaps are those of the emulated CPU model
(QEMU_CPU). Prints one line per feature and what ORT builds a session with; exits 0 unless not on aarch64.

qemu-user (7.2) passes the host's x86 /proc/cpuinfo through, and ORT's cpuinfo library crashes parsing it once /sys
is there too (segmentation fault at `import onnxruntime`; without /sys it gives up and warns). `--proc-cpuinfo N`
prints what an arm64 kernel would write there for N cores of the emulated model (its hwcaps, the MIDR part of
QEMU_CPU), which run.sh mounts over the root's /proc/cpuinfo: cpuinfo then identifies the core as on the board.
"""

from __future__ import annotations

import os
import platform
import struct
import sys
from pathlib import Path

AT_HWCAP, AT_HWCAP2 = 16, 26
# bit positions from the Linux arm64 uapi (asm/hwcap.h)
# the names an arm64 kernel prints in /proc/cpuinfo, by hwcap bit (arch/arm64/kernel/cpuinfo.c)
HWCAP_NAMES = ("fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop "
               "sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg").split()
HWCAP2_NAMES = ("dcpodp sve2 sveaes svepmull svebitperm svesha3 svesm4 flagm2 frint svei8mm svef32mm svef64mm "
                "svebf16 i8mm bf16 dgh rng bti mte").split()
# QEMU_CPU -> MIDR (implementer, variant, part, revision) of the real core; `max` (no real counterpart) passes as an A76
MIDR = {"cortex-a53": (0x41, 0x0, 0xD03, 4), "cortex-a57": (0x41, 0x1, 0xD07, 1), "cortex-a72": (0x41, 0x0, 0xD08, 3),
        "cortex-a76": (0x41, 0x4, 0xD0B, 1), "neoverse-n1": (0x41, 0x4, 0xD0C, 1), "a64fx": (0x46, 0x1, 0x001, 0),
        "max": (0x41, 0x0, 0xD0B, 1)}
HWCAP = {"asimd": 1, "fphp": 9, "asimdhp": 10, "asimddp": 20, "sve": 22}
HWCAP2 = {"sve2": 1, "svei8mm": 9, "i8mm": 13, "bf16": 14}
MEANING = {"asimd": "NEON", "fphp": "FP16 scalar", "asimdhp": "FP16 NEON", "asimddp": "dot product (sdot/udot)",
           "sve": "SVE", "sve2": "SVE2", "svei8mm": "SVE int8 matmul", "i8mm": "int8 matmul (smmla/usmmla)",
           "bf16": "BF16"}


def auxv() -> dict[int, int]:
    data = Path("/proc/self/auxv").read_bytes()
    pairs = struct.iter_unpack("<QQ", data[: len(data) // 16 * 16])
    return {k: v for k, v in pairs}


def proc_cpuinfo(n: int) -> str:
    """/proc/cpuinfo as an arm64 Linux kernel writes it, for n cores of the emulated CPU."""
    aux = auxv()
    hw, hw2 = aux.get(AT_HWCAP, 0), aux.get(AT_HWCAP2, 0)
    names = [x for b, x in enumerate(HWCAP_NAMES) if hw >> b & 1] + [x for b, x in enumerate(HWCAP2_NAMES) if hw2 >> b & 1]
    imp, var, part, rev = MIDR.get(os.environ.get("QEMU_CPU", "max"), MIDR["max"])
    core = (f"BogoMIPS\t: 50.00\nFeatures\t: {' '.join(names)}\nCPU implementer\t: {imp:#04x}\nCPU architecture: 8\n"
            f"CPU variant\t: {var:#x}\nCPU part\t: {part:#05x}\nCPU revision\t: {rev}\n")
    return "".join(f"processor\t: {i}\n{core}\n" for i in range(n))


def features() -> dict[str, bool]:
    aux = auxv()
    hw, hw2 = aux.get(AT_HWCAP, 0), aux.get(AT_HWCAP2, 0)
    return {**{k: bool(hw >> b & 1) for k, b in HWCAP.items()}, **{k: bool(hw2 >> b & 1) for k, b in HWCAP2.items()}}


def int8_gemm(f: dict[str, bool]) -> str:
    """The int8 GEMM kernel family MLAS dispatches to for these features."""
    if f["i8mm"]:
        return "i8mm (usmmla / smmla)"
    if f["asimddp"]:
        return "dot product (udot / sdot)"
    return "NEON widening multiply-accumulate"


def main() -> int:
    if sys.argv[1:2] == ["--proc-cpuinfo"]:
        sys.stdout.write(proc_cpuinfo(int(sys.argv[2])))
        return 0
    machine = platform.machine()
    print(f"machine {machine}, QEMU_CPU={os.environ.get('QEMU_CPU', '(native or qemu default)')}")
    if machine != "aarch64":
        print("not aarch64: nothing to report")
        return 1
    f = features()
    for k, on in f.items():
        print(f"  {k:8s} {'yes' if on else 'no ':3s}  {MEANING[k]}")
    print(f"int8 GEMM kernels: {int8_gemm(f)}")
    import onnxruntime as ort  # its cpuinfo warnings (if any) go to stderr here

    print(f"onnxruntime {ort.__version__}, providers {ort.get_available_providers()}")
    print("/sys mounted:", os.path.isdir("/sys/devices/system/cpu"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
