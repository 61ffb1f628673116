import java.nio.ByteBuffer;
import java.util.*;

/* Response cache of direct buffers keyed by request URL with a query string: the
 * keys never repeat, the map is static and never evicted. args: KiB/s lifetime_s */
public class DirectCache {
    static final HashMap<String, ByteBuffer> CACHE = new HashMap<>();

    static ByteBuffer render(String url) {
        return CACHE.computeIfAbsent(url, u -> {
            ByteBuffer b = ByteBuffer.allocateDirect(16 * 1024);
            b.put(u.getBytes());
            return b;
        });
    }

    public static void main(String[] a) throws Exception {
        int kps = Integer.parseInt(a[0]);
        long end = System.currentTimeMillis() + Long.parseLong(a[1]) * 1000;
        Random r = new Random(1);
        while (System.currentTimeMillis() < end) {
            for (int i = 0; i < kps / 16 / 10; i++)
                render("/item?id=" + r.nextLong());
            Thread.sleep(100);
        }
    }
}
