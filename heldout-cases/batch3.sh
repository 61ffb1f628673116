#!/bin/bash
cd /work/heldout/heldout-cases
J17=/usr/bin/java; J25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
NMT=-XX:NativeMemoryTracking=summary; CP="-cp classes -Xmx128m"
L=80
./run.sh gzip-17-nmt-g1-2000-d5-after   5  $J17 $NMT $CP GzipService 2000 $L
./run.sh gzip-25-zgc-200-d2-after       2  $J25 -XX:+UseZGC $CP GzipService 200 $L
./run.sh dcache-17-nmt-2M-d5-after      5  $J17 $NMT $CP DirectCache 2048 $L
./run.sh dcache-25-par-20M-d20-after   20  $J25 -XX:+UseParallelGC -XX:MaxDirectMemorySize=2g $CP DirectCache 20480 $L
./run.sh pool-17-nmt-5-d5-after         5  $J17 $NMT $CP CachedPoolServer 5 $L
./run.sh pool-25-50-d2-after            2  $J25 $CP CachedPoolServer 50 $L
./run.sh plugin-17-nmt-20-d5-after      5  $J17 $NMT $CP PluginReloader 20 $L
./run.sh plugin-25-zgc-50-d20-after    20  $J25 -XX:+UseZGC $CP PluginReloader 50 $L
./run.sh intern-17-2000-d5-after        5  $J17 $CP RequestIntern 2000 $L
./run.sh intern-25-nmt-20000-d2-after   2  $J25 $NMT $CP RequestIntern 20000 $L
./run.sh lru-17-nmt-20000-d2-after      2  $J17 $NMT $CP LruHealthy 20000 $L
./run.sh lru-25-zgc-2000-d20-after     20  $J25 -XX:+UseZGC $CP LruHealthy 2000 $L
./run.sh churn-17-nmt-par-50-d2-after   2  $J17 $NMT -XX:+UseParallelGC $CP ChurnHealthy 50 $L
./run.sh churn-25-500-d20-after        20  $J25 $CP ChurnHealthy 500 $L
./run.sh kvleak-20000-d2-after          2  ./kvleak 20000 $L
./run.sh kvleak-2000-d5-after           5  ./kvleak 2000 $L
./run.sh ringmap-2-d2-after             2  ./ringmap 2 $L
./run.sh ringmap-20-d5-after            5  ./ringmap 20 $L
./run.sh arenafrag-d2-after             2  ./arenafrag $L
./run.sh arenafrag-d20-after           20  ./arenafrag $L
./run.sh churnsrv-10000-d2-after        2  ./churnserver 10000 $L
./run.sh churnsrv-1000-d20-after       20  ./churnserver 1000 $L
./run.sh churn-25-500-d20-b-after      20  $J25 $CP ChurnHealthy 500 $L
./run.sh lru-25-zgc-2000-d20-b-after   20  $J25 -XX:+UseZGC $CP LruHealthy 2000 $L
./run.sh gzip-17-par-200-d20-after     20  $J17 -XX:+UseParallelGC $CP GzipService 200 $L
./run.sh dcache-17-200K-d2-after        2  $J17 $CP DirectCache 200 $L
./run.sh dcache-25-nmt-zgc-2M-d5-after  5  $J25 $NMT -XX:+UseZGC $CP DirectCache 2048 $L
./run.sh churn-17-g1-500-d5-after       5  $J17 $CP ChurnHealthy 500 $L
./run.sh lru-17-par-20000-d20-after    20  $J17 -XX:+UseParallelGC $CP LruHealthy 20000 $L
echo ALLDONE3 >> out/summary.tsv
