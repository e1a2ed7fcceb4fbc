#!/usr/bin/env bash
# Train (or resume) every bundled style, its generator (two stages: without, then with the adversarial term) and then its
# revision network, in three lanes of one thread each (on a
# 2-core machine shared with other jobs, as fast as two). Safe to re-run: finished styles resume
# at their last step and are only re-exported. Arguments go to each
# train_style.py (e.g. --media DIR).
set -u
cd "$(dirname "$0")/.."
mkdir -p runs
lane() {
  for name in $1; do
    python training/train_style.py "training/configs/$name.toml" --threads 1 "${@:2}" >> "runs/$name.out" 2>&1
    python training/train_style.py "training/configs/$name.toml" --adversarial --threads 1 "${@:2}" >> "runs/$name.out" 2>&1
    python training/train_revision.py "training/configs/$name.toml" --threads 1 "${@:2}" >> "runs/$name.out" 2>&1
  done
}
lane "starry-night udnie" "$@" &
lane "great-wave the-scream" "$@" &
lane "composition-vii shipwreck" "$@" &
wait
