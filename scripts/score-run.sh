#!/usr/bin/env bash
# Scores a trained Multi30k model directory the way docs/results.md reports it: sacreBLEU (cased, 13a) on
# test2016 for greedy and beam-4 (alpha 0.6) decoding, on the last checkpoint and on the average of the last N
# checkpoints (paper §6.1). Prints one JSON line per setting and writes the hypotheses next to the model.
# Usage: scripts/score-run.sh MODEL_DIR SRC_LANG TGT_LANG [N_AVERAGE=5]
set -euo pipefail
dir=$1; src=$2; tgt=$3; n=${4:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
aiayn="node $root/bin/aiayn.js"
data=$root/data/multi30k
mapfile -t ckpts < <(ls "$dir"/checkpoints/ckpt-*.safetensors | sort -t- -k2 -n | tail -n "$n")
$aiayn average "${ckpts[@]}" -o "$dir/averaged.safetensors" >&2
for weights in last averaged; do
  wflag=(); [ "$weights" = averaged ] && wflag=(--weights "$dir/averaged.safetensors")
  for beam in 1 4; do
    start=$SECONDS
    json=$($aiayn eval --model "$dir" "${wflag[@]}" --src "$data/test_2016_flickr.$src.gz" --ref "$data/test_2016_flickr.$tgt.gz" \
      --beam "$beam" --alpha 0.6 -o "$dir/test2016.$weights.beam$beam.$tgt" --json 2>/dev/null)
    secs=$((SECONDS - start))
    echo "{\"direction\":\"$src-$tgt\",\"weights\":\"$weights\",\"averaged\":$([ "$weights" = averaged ] && echo ${#ckpts[@]} || echo 1),\"beam\":$beam,\"seconds\":$secs,\"scores\":$json}"
  done
done
