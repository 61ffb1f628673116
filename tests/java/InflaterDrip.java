import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/*
 * The unclosed GZIPInputStream leak at a steady rate: PER_SEC Inflaters a
 * second are created, read part way and kept, never end()ed. zlib mallocs
 * its 7,160-byte inflate_state in inflateInit2_ (under
 * Java_java_util_zip_Inflater_init) and its 32 KiB window in the first
 * inflate() call that returns before the end of the stream (zlib 1.2.13: a
 * stream inflated whole in one call never gets a window). So each Inflater
 * here gets 32 KiB of a 64 KiB stream: ~39 KiB malloc'd, all of it touched,
 * outside NMT. RSS, the glibc arenas and VM.info's C-Heap outstanding grow;
 * NMT stays flat.
 * InflaterLeak.java (leaks on a trigger file) and InflaterLoop.java (exits by
 * itself) do not drip until killed, and both inflate their 4 KiB stream
 * whole, so they leak the state without a window (~7 KiB each).
 *
 * Usage: java InflaterDrip.java READY [PER_SEC=50] [LIFETIME_S=600]
 * READY is written when the setup is done; the process exits after
 * LIFETIME_S so that a test that loses it does not leak it forever.
 */
public class InflaterDrip {
	static final List<Inflater> kept = new ArrayList<>();

	public static void main(String[] args) throws Exception {
		double perSec = args.length > 1 ? Double.parseDouble(args[1]) : 50;
		long lifetime = args.length > 2 ? Long.parseLong(args[2]) : 600;
		long end = System.nanoTime() + lifetime * 1_000_000_000L;

		Deflater d = new Deflater();
		d.setInput(new byte[64 << 10]);
		d.finish();
		byte[] compressed = new byte[8192];
		int clen = d.deflate(compressed);
		if (!d.finished())
			throw new IllegalStateException("deflate output did not fit");
		d.end();
		byte[] out = new byte[32 << 10];

		Files.writeString(Path.of(args[0]), "ready\n");
		Ticker t = new Ticker(perSec);
		while (System.nanoTime() < end) {
			for (int i = t.due(); i > 0; i--) {
				Inflater inf = new Inflater();
				inf.setInput(compressed, 0, clen);
				if (inf.inflate(out) != out.length || inf.finished())
					throw new IllegalStateException("inflated the whole stream");
				kept.add(inf);
			}
			Thread.sleep(10);
		}
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
