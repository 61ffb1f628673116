import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/*
 * zlib streams left to the Cleaner: every request makes one and drops it
 * without end() or close(), so its zlib state lives until a collection finds
 * the object unreachable and the Cleaner thread frees it. Native memory saws
 * up between collections and down at each; nothing stays reachable, so the
 * heap looks fine. The glibc arenas grow around the states all the same.
 *  - deflate: new Deflater(6) under a DeflaterOutputStream, finished, never
 *    end()ed (DeflaterOutputStream.close does not end a Deflater it was
 *    given): deflateInit2_ mallocs about 260 KiB.
 *  - gzip: a GZIPInputStream over a 64 KiB stream, read part way and never
 *    closed: inflateInit2_'s 7 KiB state and its 32 KiB window.
 * MODE close ends every stream: the healthy control, with the same garbage.
 * Each request also drops 64 KiB of arrays, so young collections come often.
 *
 * Usage: java ZlibCleaner READY [KIND=deflate|gzip] [PER_SEC=200]
 *        [MODE=forget|close] [LIFETIME_S=600]
 * READY is written when the setup is done, READY.warm once the collectors
 * ran six times while requests were made (the saw is steady); the process
 * exits after LIFETIME_S.
 */
public class ZlibCleaner {
	static byte[] payload = new byte[64 << 10];
	static byte[] gz;
	static volatile Object sink;
	static long out;

	static void compress(boolean close) throws Exception {
		ByteArrayOutputStream bos = new ByteArrayOutputStream();
		Deflater def = new Deflater(6); // compress makes a Deflater
		DeflaterOutputStream dos = new DeflaterOutputStream(bos, def);
		dos.write(payload, 0, 8192);
		dos.finish();
		if (close)
			def.end();
		out += bos.size();
	}

	static void unzip(boolean close) throws Exception {
		InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz)); // unzip opens a stream
		out += in.read(new byte[32 << 10]); // unzip reads part
		if (close)
			in.close();
	}

	static long collections() {
		long n = 0;
		for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans())
			n += Math.max(0, b.getCollectionCount());
		return n;
	}

	public static void main(String[] args) throws Exception {
		Path ready = Path.of(args[0]);
		boolean gzip = args.length > 1 && args[1].equals("gzip");
		double perSec = args.length > 2 ? Double.parseDouble(args[2]) : 200;
		boolean close = args.length > 3 && args[3].equals("close");
		long lifetime = args.length > 4 ? Long.parseLong(args[4]) : 600;
		long end = System.nanoTime() + lifetime * 1_000_000_000L;

		for (int i = 0; i < payload.length; i++)
			payload[i] = (byte) "abcdefgh".charAt((i * 7919) % 8);
		ByteArrayOutputStream b = new ByteArrayOutputStream();
		try (GZIPOutputStream g = new GZIPOutputStream(b)) {
			g.write(payload);
		}
		gz = b.toByteArray();

		Files.writeString(ready, "ready\n");
		long gc0 = collections();
		boolean warm = false;
		Ticker t = new Ticker(perSec);
		while (System.nanoTime() < end) {
			for (int i = t.due(); i > 0; i--) {
				if (gzip)
					unzip(close);
				else
					compress(close);
				for (int k = 0; k < 16; k++)
					sink = new byte[4096];
			}
			if (!warm && collections() >= gc0 + 6) {
				Files.writeString(Path.of(args[0] + ".warm"), "warm\n");
				warm = true;
			}
			Thread.sleep(5);
		}
		System.out.println("out " + out);
	}

	/* How many events are due so far at PER_SEC, whatever the sleeps' jitter. */
	static final class Ticker {
		final long start = System.nanoTime();
		final double perNs;
		long done;

		Ticker(double perSec) { perNs = perSec / 1e9; }

		int due() {
			long want = (long) ((System.nanoTime() - start) * perNs);
			int n = (int) (want - done);
			done = want;
			return n;
		}
	}
}
