#!/usr/bin/env bash
# Run chapters the way a Colab reader does: the package installed from a wheel (not this checkout), each
# notebook alone in an empty folder with only MNIST beside it, so that the data root, the artifact cache and
# every import are the installed package's own.
#
#   tools/colab_check.sh [VENV] [NOTEBOOK ...]     (defaults: .venv, chapters 02 and 04)
#
# The fresh environment borrows the third-party packages of VENV (torch alone is ~6 GB) through a .pth line;
# VENV's editable install of this package is not visible there, and the script checks that.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=$(cd "${1:-.venv}" && pwd)
shift || true
notebooks=("$@")
[ ${#notebooks[@]} -gt 0 ] || notebooks=(notebooks/02_primary_cnn.ipynb notebooks/04_symbiote.ipynb)

work=$(mktemp -d "${TMPDIR:-/tmp}/symbiote-colab.XXXXXX")
trap 'rm -rf "$work"' EXIT
report="$root/_build/colab-check"
mkdir -p "$report"

# Build from a copy of what the package is made of, so that no build/ folder of the checkout (which can hold
# modules deleted since) leaks into the wheel, and nothing is written into the checkout.
echo "== building the wheel"
mkdir -p "$work/src"
cp -r "$root/pyproject.toml" "$root/README.md" "$root/symbiote_lite" "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
"$venv/bin/python" -m pip wheel -q --no-deps -w "$work/dist" "$work/src"
wheel=$(ls "$work"/dist/symbiote_lite-*.whl)

echo "== installing $(basename "$wheel") into a fresh environment"
"$venv/bin/python" -m venv --without-pip "$work/env"
env_site=$("$work/env/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
deps_site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
echo "$deps_site" > "$env_site/_third_party.pth"
"$venv/bin/python" -m pip install -q --no-deps --target "$env_site" "$wheel"
"$work/env/bin/python" -m ipykernel install --prefix "$work/env" --name python3 >/dev/null

# Run from an empty folder: no repository files beside the notebook, MNIST supplied in ./data like a Colab upload.
run="$work/run"
mkdir -p "$run/data/MNIST/raw"
if compgen -G "$root/data/MNIST/raw/*.gz" >/dev/null; then
  cp "$root"/data/MNIST/raw/*.gz "$run/data/MNIST/raw/"
fi
cd "$run"
unset SYMBIOTE_LITE_DATA PYTHONPATH
# Only this environment's kernel: a "python3" kernelspec elsewhere (user or system) must not win.
export JUPYTER_PATH="$work/env/share/jupyter"
where=$("$work/env/bin/python" -c 'import symbiote_lite; print(symbiote_lite.__file__)')
case "$where" in
  "$env_site"/*) echo "== symbiote_lite imports from the wheel: $where" ;;
  *) echo "symbiote_lite was imported from $where, not from the installed wheel" >&2; exit 1 ;;
esac
root_data=$("$work/env/bin/python" -c 'from symbiote_lite.artifacts import data_root; print(data_root())')
[ "$root_data" = "$run/data" ] || { echo "data root is $root_data, expected $run/data" >&2; exit 1; }

printf '| notebook | seconds, standalone |\n|---|---|\n' > "$report/timings.md"
for nb in "${notebooks[@]}"; do
  name=$(basename "$nb")
  cp "$root/$nb" "$run/$name"
  echo "== executing $name standalone in $run"
  start=$(date +%s)
  TQDM_DISABLE=1 PYTHONWARNINGS=ignore::DeprecationWarning \
    "$work/env/bin/python" -m papermill --no-progress-bar -k python3 "$name" "executed-$name"
  took=$(( $(date +%s) - start ))
  echo "== $name took $took s standalone"
  echo "| ${name%.ipynb} | $took |" >> "$report/timings.md"
  rm "$run/$name"
done

# The trained networks must have landed in this folder's cache, not in the checkout's.
compgen -G "$run/data/artifacts/*.pt" >/dev/null || { echo "no artifacts were cached in $run/data/artifacts" >&2; exit 1; }
echo "== artifacts cached standalone: $(ls "$run/data/artifacts" | tr '\n' ' ')"
cat "$report/timings.md"
