#!/usr/bin/env bash
# Installs native TensorFlow.js (@tensorflow/tfjs-node) offline: its own install script downloads
# libtensorflow and fails without network, so this takes libtensorflow_cc.so.2 (which exports the
# TF C API the binding needs) and the C headers from the tensorflow-cpu wheel, puts them where the
# binding expects them, and builds the binding from source. Recipe: shared/notes/backends.md.
# Run by `npm run setup:native`; rerun after every `npm ci` (which wipes node_modules).
#
# It NEVER fails the caller: on any missing piece it prints one line saying why, that the pure
# wasm backend will be used, and exits 0.
#
# Environment: ONNXTUNE_TF_WHEEL_VERSION (default 2.21.0), ONNXTUNE_WHEEL_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/onnxtune/wheels), PYTHON (default python3).
set -u
set -o pipefail

TF_VERSION="${ONNXTUNE_TF_WHEEL_VERSION:-2.21.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/node_modules/@tensorflow/tfjs-node"
CACHE="${ONNXTUNE_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onnxtune/wheels}"
PY="${PYTHON:-python3}"
START=$(date +%s)
STAGE=""
LOG=""

cleanup() {
  [ -n "$STAGE" ] && rm -rf "$STAGE"
  return 0
}
trap cleanup EXIT

# Removes what this script adds to the package: deps/, the build folders and the built binding.
reset_package() {
  rm -rf "$PKG/deps" "$PKG/build" "$PKG"/build-tmp-napi-v* "$PKG"/lib/napi-v*
  rmdir "$PKG/lib" 2>/dev/null
  return 0
}

# One line, then exit 0. $1: why; $2 = restore: also undo the half-done install.
give_up() {
  [ "${2:-}" = "restore" ] && reset_package
  echo "setup:native: $1; the pure wasm backend will be used."
  exit 0
}

# The last meaningful line of a log file, for the one-line reason.
last_line() {
  grep -v '^\s*$' "$1" 2>/dev/null | grep -iv 'onednn\|cpu_feature_guard\|rebuild TensorFlow' | tail -n 1 | cut -c1-200
}

# Prints "<backend> <TF version>" when @tensorflow/tfjs-node loads here, else fails.
probe() {
  (cd "$ROOT" && node -e "
    const tf = require('@tensorflow/tfjs-node');
    tf.ready().then(() => {
      const b = tf.getBackend();
      const v = (tf.backend().binding || {}).TF_Version || '?';
      console.log(b + ' ' + v);
      process.exit(b === 'tensorflow' ? 0 : 1);
    });" 2>"${1:-/dev/null}")
}

# 0. Nothing to do when it already loads.
if out=$(probe); then
  echo "setup:native: @tensorflow/tfjs-node already works (backend ${out% *}, TF ${out#* }); nothing to do."
  exit 0
fi

# 1. Preconditions.
[ -f "$PKG/package.json" ] ||
  give_up "@tensorflow/tfjs-node is not installed (an optional dependency; run npm install without --omit=optional)"
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) give_up "this offline recipe supports Linux x86_64 only (found $(uname -s)/$(uname -m))" ;;
esac
command -v "$PY" >/dev/null 2>&1 || give_up "$PY not found (needed for pip and node-gyp)"
"$PY" -m pip --version >/dev/null 2>&1 || give_up "pip is not available for $PY"
command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 ||
  give_up "make and g++ are needed to build the binding (e.g. apt-get install build-essential)"

PRE_GYP=$(cd "$PKG" && node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp')" 2>/dev/null) ||
  give_up "@mapbox/node-pre-gyp (a dependency of tfjs-node) was not found"

# node-gyp must find the Node headers locally: the Node install prefix, or node-gyp's own cache.
NODEDIR=$(node -p "require('path').resolve(process.execPath, '..', '..')")
NODEDIR_ARG=()
if [ -f "$NODEDIR/include/node/node_api.h" ] && [ -f "$NODEDIR/include/node/common.gypi" ]; then
  NODEDIR_ARG=("--nodedir=$NODEDIR")
elif [ ! -f "${XDG_CACHE_HOME:-$HOME/.cache}/node-gyp/$(node -p 'process.versions.node')/include/node/node_api.h" ]; then
  give_up "Node.js headers not found under $NODEDIR/include/node or the node-gyp cache (install the nodejs headers package)"
fi

# 2. The wheel (cached; reused when present).
mkdir -p "$CACHE" 2>/dev/null || give_up "cannot create the wheel cache $CACHE"
LOG="$CACHE/setup-native.log"
: >"$LOG"
find_wheel() { find "$CACHE" -maxdepth 1 -name "tensorflow_cpu-${TF_VERSION}-*.whl" 2>/dev/null | sort | tail -n 1; }
WHEEL=$(find_wheel)
if [ -z "$WHEEL" ]; then
  echo "setup:native: downloading tensorflow-cpu==$TF_VERSION (about 260 MB) into $CACHE ..."
  "$PY" -m pip download "tensorflow-cpu==$TF_VERSION" --no-deps --only-binary=:all: -d "$CACHE" >>"$LOG" 2>&1 ||
    give_up "the tensorflow-cpu==$TF_VERSION wheel is unavailable ($(last_line "$LOG"))"
  WHEEL=$(find_wheel)
  [ -n "$WHEEL" ] || give_up "pip download did not leave a tensorflow_cpu-${TF_VERSION} wheel in $CACHE"
fi

# 3. Libraries and headers into deps/{lib,include}.
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/onnxtune-native.XXXXXX") || give_up "cannot create a temporary folder"
MEMBERS=(
  'tensorflow/libtensorflow_cc.so.2'
  'tensorflow/libtensorflow_framework.so.2'
  'tensorflow/include/tensorflow/c/*'
  'tensorflow/include/tensorflow/core/platform/ctstring*'
  'tensorflow/include/tsl/platform/ctstring*'
  'tensorflow/include/xla/tsl/c/*'
)
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$WHEEL" "${MEMBERS[@]}" -d "$STAGE" >>"$LOG" 2>&1 || give_up "unzip of $(basename "$WHEEL") failed ($(last_line "$LOG"))"
else
  "$PY" - "$WHEEL" "$STAGE" "${MEMBERS[@]}" >>"$LOG" 2>&1 <<'PYEOF' || give_up "extracting $(basename "$WHEEL") failed ($(last_line "$LOG"))"
import fnmatch, sys, zipfile
wheel, dest, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if any(fnmatch.fnmatch(n, p) for p in patterns)]
    z.extractall(dest, names)
PYEOF
fi
for f in libtensorflow_cc.so.2 libtensorflow_framework.so.2 include/tensorflow/c/c_api.h include/tensorflow/c/eager/c_api.h; do
  [ -e "$STAGE/tensorflow/$f" ] || give_up "$(basename "$WHEEL") has no tensorflow/$f (wrong TensorFlow version?)"
done

reset_package
mkdir -p "$PKG/deps/lib" "$PKG/deps/include" || give_up "cannot write $PKG/deps"
mv "$STAGE/tensorflow/libtensorflow_cc.so.2" "$STAGE/tensorflow/libtensorflow_framework.so.2" "$PKG/deps/lib/" &&
  mv "$STAGE/tensorflow/include/"* "$PKG/deps/include/" ||
  give_up "cannot move the libraries into $PKG/deps" restore
# The binding links -ltensorflow -ltensorflow_framework; tfjs-node's own layout (libtensorflow 2.9.1)
# also has the versioned names.
(
  cd "$PKG/deps/lib" &&
    ln -sf libtensorflow_cc.so.2 libtensorflow.so.2 &&
    ln -sf libtensorflow_cc.so.2 libtensorflow.so &&
    ln -sf libtensorflow_cc.so.2 libtensorflow.so.2.9.1 &&
    ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so &&
    ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so.2.9.1
) || give_up "cannot create the library symlinks in $PKG/deps/lib" restore

# 4. Build the binding (about 15 s).
echo "setup:native: building the tfjs-node binding against TensorFlow $TF_VERSION ..."
(cd "$PKG" && node "$PRE_GYP" install --build-from-source "${NODEDIR_ARG[@]}") >>"$LOG" 2>&1 ||
  give_up "building the tfjs-node binding failed ($(grep -i 'error' "$LOG" | head -n 1 | cut -c1-200); log: $LOG)" restore

# 5. Verify.
if ! out=$(probe "$STAGE/probe.err"); then
  cp "$STAGE/probe.err" "$CACHE/probe.err" 2>/dev/null
  give_up "@tensorflow/tfjs-node still does not load ($(last_line "$CACHE/probe.err"))" restore
fi
SIZE=$(du -sh "$PKG/deps" 2>/dev/null | cut -f1)
echo "setup:native: @tensorflow/tfjs-node works: backend ${out% *}, TF ${out#* } ($(($(date +%s) - START)) s, deps ${SIZE:-?} in node_modules; wheel cached in $CACHE)."
exit 0
