import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/*
 * A thread leak: PER_SEC threads a second named "leaky-worker-N" (N from 0)
 * that park forever, like tasks blocked on a queue nobody feeds. Each costs a
 * Java thread (java.threads.live, /proc/PID/status Threads:), a stack
 * reservation (-Xss, 1 MiB by default, little of it touched) and NMT Thread
 * malloc. Daemon threads, so the lifetime still ends the process.
 *
 * Usage: java ThreadLeak.java READY [PER_SEC=5] [LIFETIME_S=600]
 */
public class ThreadLeak {
	public static void main(String[] args) throws Exception {
		double perSec = args.length > 1 ? Double.parseDouble(args[1]) : 5;
		long lifetime = args.length > 2 ? Long.parseLong(args[2]) : 600;
		long start = System.nanoTime();
		long end = start + lifetime * 1_000_000_000L;
		long started = 0;

		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			long want = (long) ((System.nanoTime() - start) / 1e9 * perSec);
			for (; started < want; started++) {
				Thread t = new Thread(() -> {
					for (;;)
						LockSupport.park();
				}, "leaky-worker-" + started);
				t.setDaemon(true);
				t.start();
			}
			Thread.sleep(20);
		}
	}
}
