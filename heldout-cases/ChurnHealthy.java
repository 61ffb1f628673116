import java.nio.ByteBuffer;
import java.util.*;
import java.util.concurrent.*;
import java.util.zip.*;

/* Healthy churn: garbage on the heap, short-lived direct buffers, Deflaters that
 * are ended, a fixed pool of 4 workers. args: MiB/s lifetime_s */
public class ChurnHealthy {
    public static void main(String[] a) throws Exception {
        int mps = Integer.parseInt(a[0]);
        long end = System.currentTimeMillis() + Long.parseLong(a[1]) * 1000;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        byte[] data = "churn churn churn ".repeat(100).getBytes();
        while (System.currentTimeMillis() < end) {
            List<Future<Integer>> fs = new ArrayList<>();
            for (int w = 0; w < 4; w++)
                fs.add(pool.submit(() -> {
                    int s = 0;
                    for (int i = 0; i < mps * 64 / 10 / 4; i++) {
                        byte[] g = new byte[16 * 1024];
                        s += g.length;
                    }
                    ByteBuffer d = ByteBuffer.allocateDirect(64 * 1024);
                    s += d.capacity();
                    Deflater df = new Deflater();
                    df.setInput(data); df.finish();
                    byte[] o = new byte[4096];
                    s += df.deflate(o);
                    df.end();
                    return s;
                }));
            for (Future<Integer> f : fs) f.get();
            Thread.sleep(100);
        }
        pool.shutdown();
    }
}
