import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import sun.misc.Unsafe;

/*
 * Keeps Inflaters that are never end()ed, made by several threads (so their
 * zlib states spread over several glibc arenas), among filler blocks malloc'd
 * by the same threads, for the malloc probe at scale.
 * Usage: java InflaterArenas DIR THREADS K1 K2 FILLER_KIB LIFETIME_S
 * Phase 1: THREADS threads make K1 Inflaters in all, each used once for half
 * of a 64 KiB stream (an inflate() that returns before the end of the stream
 * is what makes zlib 1.2.13 allocate its 32 KiB window: each Inflater holds a
 * z_stream, a 7 KiB state and the window, three chunks for one stream), and
 * after each one FILLER_KIB KiB of filler
 * in 48 KiB blocks (below glibc's mmap threshold: they stay in the arena),
 * written so that they are resident; then DIR/phase1 says "done K1".
 * Phase 2, when DIR/more appears: K2 - K1 more Inflaters, no filler; then
 * DIR/phase2 says "done K2". Each time DIR/ping appears it is deleted and
 * DIR/pong written. The JVM exits after LIFETIME_S seconds.
 */
public class InflaterArenas {
	static final List<Inflater> kept = new ArrayList<>();
	static byte[] compressed = new byte[8192];
	static int clen;
	static Unsafe unsafe;

	static void make(int threads, int count, long fillerKib) throws Exception {
		Thread[] t = new Thread[threads];
		for (int i = 0; i < threads; i++) {
			int n = count / threads + (i < count % threads ? 1 : 0);
			t[i] = new Thread(() -> {
				byte[] out = new byte[32 << 10];
				List<Inflater> mine = new ArrayList<>();
				for (int k = 0; k < n; k++) {
					Inflater inf = new Inflater();
					inf.setInput(compressed, 0, clen);
					try {
						if (inf.inflate(out) != out.length || inf.finished())
							throw new IllegalStateException("inflated whole");
					} catch (Exception e) {
						throw new RuntimeException(e);
					}
					mine.add(inf);
					for (long f = 0; f < fillerKib; f += 48) {
						long a = unsafe.allocateMemory(48 * 1024);
						unsafe.setMemory(a, 48 * 1024, (byte) 0x5a);
					}
				}
				synchronized (kept) {
					kept.addAll(mine);
				}
			});
			t[i].start();
		}
		for (Thread x : t)
			x.join();
	}

	public static void main(String[] args) throws Exception {
		Path dir = Path.of(args[0]);
		int threads = Integer.parseInt(args[1]);
		int k1 = Integer.parseInt(args[2]), k2 = Integer.parseInt(args[3]);
		long fillerKib = Long.parseLong(args[4]);
		long end = System.currentTimeMillis() + Long.parseLong(args[5]) * 1000;
		Field f = Unsafe.class.getDeclaredField("theUnsafe");
		f.setAccessible(true);
		unsafe = (Unsafe) f.get(null);
		Deflater d = new Deflater();
		d.setInput(new byte[64 << 10]);
		d.finish();
		clen = d.deflate(compressed);
		d.end();

		make(threads, k1, fillerKib);
		Files.writeString(dir.resolve("phase1"), "done " + kept.size() + "\n");
		boolean more = false;
		while (System.currentTimeMillis() < end) {
			if (!more && Files.exists(dir.resolve("more"))) {
				more = true;
				make(threads, k2 - k1, 0);
				Files.writeString(dir.resolve("phase2"), "done " + kept.size() + "\n");
			}
			if (Files.exists(dir.resolve("ping"))) {
				Files.delete(dir.resolve("ping"));
				Files.writeString(dir.resolve("pong"), "pong\n");
			}
			Thread.sleep(20);
		}
	}
}
