import java.util.*;

/* A bounded LRU cache (LinkedHashMap, 20000 entries of 2 KiB) that fills, then
 * holds while lookups keep evicting. Healthy. args: ops/s lifetime_s */
public class LruHealthy {
    public static void main(String[] a) throws Exception {
        int ops = Integer.parseInt(a[0]);
        long end = System.currentTimeMillis() + Long.parseLong(a[1]) * 1000;
        Map<Long, byte[]> lru = new LinkedHashMap<>(1024, 0.75f, true) {
            protected boolean removeEldestEntry(Map.Entry<Long, byte[]> e) { return size() > 20000; }
        };
        Random r = new Random(2);
        while (System.currentTimeMillis() < end) {
            for (int i = 0; i < ops / 10; i++)
                lru.computeIfAbsent((long) r.nextInt(200000), k -> new byte[2048]);
            Thread.sleep(100);
        }
    }
}
