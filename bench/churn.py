# A python3 allocation churn for the tracker's figures (docs/PERFORMANCE.md):
# a dict of 300000 small tuples, strings, lists and dicts, a third of them
# replaced as it goes. Prints the dict's size, and its own VmHWM to stderr (so
# the figure is the tracked process's own, whatever runs around it).
d = {}
for i in range(300000):
    d[i] = ("x" * (i % 200), [i] * (i % 7), {"k": i})
    if i % 3 == 0:
        d.pop(i // 2, None)
print(len(d))
import sys
sys.stderr.write([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0])
