import java.util.concurrent.*;

/* Thread-per-request via a cached pool; each handler waits for a reply from a
 * backend that never answers, so the pool grows a thread per request.
 * args: requests/s lifetime_s */
public class CachedPoolServer {
    public static void main(String[] a) throws Exception {
        int rps = Integer.parseInt(a[0]);
        long end = System.currentTimeMillis() + Long.parseLong(a[1]) * 1000;
        ExecutorService pool = Executors.newCachedThreadPool();
        CountDownLatch backend = new CountDownLatch(1);
        while (System.currentTimeMillis() < end) {
            pool.submit(() -> { backend.await(); return null; });
            Thread.sleep(1000 / rps);
        }
        System.exit(0);
    }
}
