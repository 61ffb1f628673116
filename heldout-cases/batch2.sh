#!/bin/bash
cd /work/heldout/heldout-cases
J17=/usr/bin/java; J25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
NMT=-XX:NativeMemoryTracking=summary; CP="-cp classes -Xmx128m"
L=80
./run.sh churn-25-500-d20-b      20  $J25 $CP ChurnHealthy 500 $L
./run.sh lru-25-zgc-2000-d20-b   20  $J25 -XX:+UseZGC $CP LruHealthy 2000 $L
./run.sh gzip-17-par-200-d20     20  $J17 -XX:+UseParallelGC $CP GzipService 200 $L
./run.sh dcache-17-200K-d2        2  $J17 $CP DirectCache 200 $L
./run.sh dcache-25-nmt-zgc-2M-d5  5  $J25 $NMT -XX:+UseZGC $CP DirectCache 2048 $L
./run.sh churn-17-g1-500-d5       5  $J17 $CP ChurnHealthy 500 $L
./run.sh lru-17-par-20000-d20    20  $J17 -XX:+UseParallelGC $CP LruHealthy 20000 $L
echo ALLDONE2 >> out/summary.tsv
