#!/bin/bash
# run.sh NAME DELAY_S CMD...: start CMD, wait DELAY_S, doctor it for 10 s (json), kill it.
name=$1 delay=$2; shift 2
cd /work/heldout/heldout-cases
"$@" > out/$name.stdout 2>&1 &
pid=$!
sleep "$delay"
../build/offheap doctor $pid -d 10s --json > out/$name.json 2> out/$name.err
echo "rc=$?" >> out/$name.err
kill $pid 2>/dev/null; wait $pid 2>/dev/null
jq -r --arg n "$name" '[$n, ([.findings[] | "\(.severity):\(.pattern)"] | join(",")), ([.findings[] | select(.severity=="leak") | .culprit][0] // "-")] | @tsv' out/$name.json >> out/summary.tsv
