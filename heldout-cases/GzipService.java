import java.io.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.zip.*;

/* A toy "service": each request gzips a payload and reads it back. One request in
 * ten fails half way; the error path parks the half-read stream for a retry that
 * never happens, so its Inflater is never end()ed. args: requests/s lifetime_s */
public class GzipService {
    static final Map<Long, InputStream> retryQueue = new ConcurrentHashMap<>();
    static long seq;

    static byte[] handle(byte[] body) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) { gz.write(body); }
        GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bos.toByteArray()));
        byte[] buf = new byte[512];
        int n = in.read(buf);
        if (++seq % 10 == 0) {
            retryQueue.put(seq, in);        // error path: no close()
            throw new IOException("upstream reset");
        }
        in.close();
        return Arrays.copyOf(buf, Math.max(n, 0));
    }

    public static void main(String[] a) throws Exception {
        int rps = Integer.parseInt(a[0]);
        long end = System.currentTimeMillis() + Long.parseLong(a[1]) * 1000;
        byte[] body = "hello world, this is a request body ".repeat(200).getBytes();
        long errors = 0;
        while (System.currentTimeMillis() < end) {
            long t0 = System.nanoTime();
            for (int i = 0; i < rps / 10; i++) {
                try { handle(body); } catch (IOException e) { errors++; }
            }
            long sleep = 100 - (System.nanoTime() - t0) / 1_000_000;
            if (sleep > 0) Thread.sleep(sleep);
        }
        System.out.println("errors " + errors);
    }
}
