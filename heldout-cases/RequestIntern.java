import java.util.*;

/* Interns every request id "to save memory". args: ids/s lifetime_s */
public class RequestIntern {
    public static void main(String[] a) throws Exception {
        int ips = Integer.parseInt(a[0]);
        long end = System.currentTimeMillis() + Long.parseLong(a[1]) * 1000;
        long sink = 0;
        while (System.currentTimeMillis() < end) {
            for (int i = 0; i < ips / 10; i++) {
                String id = ("req-" + UUID.randomUUID()).intern();
                sink += id.length();
            }
            Thread.sleep(100);
        }
        System.out.println(sink);
    }
}
