# Sourced by accuracy.sh and operating.sh: builds fphal's evaluation tool and, when $nbis is 1, the
# NIST NBIS baseline (or takes NBIS_EVAL_BIN), and lists them in the array `engines` as name=path.
# Needs $root (the project's directory).
cargo build --release --quiet -p fphal-tools
engines=("fphal=$root/target/release/fphal-eval")
if [ "$nbis" = 1 ] && [ -n "${NBIS_EVAL_BIN:-}" ]; then
    engines+=("nbis=$NBIS_EVAL_BIN")
elif [ "$nbis" = 1 ] && [ -d "$root/../shared/tools/nbis-eval" ]; then
    echo "building the NBIS baseline (../shared/tools/nbis-eval) ..." >&2
    CARGO_TARGET_DIR=$root/target/nbis-eval cargo build --release --quiet --manifest-path "$root/../shared/tools/nbis-eval/Cargo.toml"
    engines+=("nbis=$root/target/nbis-eval/release/nbis-eval")
fi
