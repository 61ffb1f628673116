import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/*
 * A busy JVM that does not leak, the control for the leak fixtures. After a
 * few seconds of warm-up nothing grows steadily; it only churns:
 *  - ALLOCATORS threads ("alloc-N") allocate and drop about MB_PER_SEC MiB a
 *    second of short-lived arrays between them (heap sawtooth, young GCs);
 *  - a bounded LRU cache of 20,000 entries (~5 MiB) fills in the first
 *    seconds, then only evicts;
 *  - a fixed pool of 4 threads ("pool-1-thread-N") runs tasks that deflate
 *    and inflate with a Deflater and an Inflater that are end()ed, through a
 *    64 KiB direct buffer per thread allocated once and reused;
 *  - the number of threads, loaded classes and direct buffers is fixed.
 *
 * Usage: java BusyHealthy.java READY [MB_PER_SEC=20] [ALLOCATORS=2] [LIFETIME_S=600]
 * READY is written once the threads run; READY.warm once the cache is full
 * and every pool thread has its direct buffer (the warm-up is over).
 */
public class BusyHealthy {
	static final int CACHE_MAX = 20_000;
	static final Map<Long, byte[]> cache = new LinkedHashMap<>(CACHE_MAX * 2, 0.75f, true) {
		@Override
		protected boolean removeEldestEntry(Map.Entry<Long, byte[]> e) {
			return size() > CACHE_MAX;
		}
	};
	static final ThreadLocal<ByteBuffer> direct =
		ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(64 << 10));
	static volatile long sink;

	/* One pool task: compress some bytes and back, ending both zlib streams. */
	static void zlibTask(byte[] data) {
		ByteBuffer buf = direct.get();
		buf.clear();
		Deflater d = new Deflater(6);
		Inflater inf = new Inflater();
		try {
			d.setInput(data);
			d.finish();
			d.deflate(buf);
			buf.flip();
			inf.setInput(buf);
			byte[] out = new byte[data.length];
			sink += inf.inflate(out);
		} catch (DataFormatException e) {
			throw new IllegalStateException(e);
		} finally {
			d.end();
			inf.end();
		}
	}

	/* An allocator thread: garbage at its share of the rate, and cache traffic. */
	static void allocate(double bytesPerSec, long seed) {
		SplittableRandom rnd = new SplittableRandom(seed);
		long start = System.nanoTime();
		long done = 0;
		for (;;) {
			long want = (long) ((System.nanoTime() - start) / 1e9 * bytesPerSec);
			while (done < want) {
				byte[] b = new byte[1024 + rnd.nextInt(15 * 1024)];
				b[b.length - 1] = 1;
				Object[] small = new Object[16];
				for (int i = 0; i < small.length; i++)
					small[i] = Long.valueOf(rnd.nextLong());
				sink += b.length + small.length;
				done += b.length + 16 * 24L;
				long key = rnd.nextLong(1_000_000);
				synchronized (cache) {
					if (cache.get(key) == null)
						cache.put(key, new byte[200]);
				}
			}
			try {
				Thread.sleep(5);
			} catch (InterruptedException e) {
				return;
			}
		}
	}

	public static void main(String[] args) throws Exception {
		double mbPerSec = args.length > 1 ? Double.parseDouble(args[1]) : 20;
		int allocators = args.length > 2 ? Integer.parseInt(args[2]) : 2;
		long lifetime = args.length > 3 ? Long.parseLong(args[3]) : 600;
		long end = System.nanoTime() + lifetime * 1_000_000_000L;
		ExecutorService pool = Executors.newFixedThreadPool(4);
		Semaphore inFlight = new Semaphore(8);
		byte[] data = new byte[32 << 10];
		new SplittableRandom(7).nextBytes(data);
		for (int i = 0; i < data.length; i += 4)
			data[i] = 'a';	/* compressible, not trivially */

		for (int i = 0; i < allocators; i++) {
			final long seed = i;
			Thread t = new Thread(() -> allocate(mbPerSec * (1 << 20) / allocators, seed),
					      "alloc-" + i);
			t.setDaemon(true);
			t.start();
		}
		Files.writeString(Path.of(args[0]), "ready\n");
		boolean warm = false;
		long tasks = 0;
		/* 200 zlib tasks a second, never more than 8 queued. */
		while (System.nanoTime() < end) {
			if (!warm && tasks >= 400) {
				synchronized (cache) {
					warm = cache.size() >= CACHE_MAX;
				}
				if (warm)
					Files.writeString(Path.of(args[0] + ".warm"), "warm\n");
			}
			tasks += 4;
			for (int i = 0; i < 4; i++) {
				inFlight.acquire();
				pool.execute(() -> {
					try {
						zlibTask(data);
					} finally {
						inFlight.release();
					}
				});
			}
			Thread.sleep(20);
		}
		pool.shutdownNow();
		System.exit(0);
	}
}
