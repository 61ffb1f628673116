import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/*
 * Two leaks at once, each paced by the clock: direct buffers of 64 KiB
 * (ByteBuffer.allocateDirect, NMT category Other) at DIRECT_KIB_PER_SEC, and
 * Inflaters used once and never end()ed (zlib's state and 32 KiB window,
 * malloc'd outside NMT) at INFLATERS_PER_SEC. Both are kept in lists. A rate
 * of 0 turns that leak off, so one fixture gives either leak alone, both, or
 * rates ten times apart.
 *
 * Usage: java MixedLeak READY DIRECT_KIB_PER_SEC INFLATERS_PER_SEC [LIFETIME_S=600]
 */
public class MixedLeak {
	static final List<ByteBuffer> buffers = new ArrayList<>();
	static final List<Inflater> inflaters = new ArrayList<>();

	public static void main(String[] args) throws Exception {
		long kibPerSec = Long.parseLong(args[1]);
		long infPerSec = Long.parseLong(args[2]);
		long lifetime = args.length > 3 ? Long.parseLong(args[3]) : 600;
		byte[] input = new byte[4096];
		byte[] compressed = new byte[8192];
		byte[] out = new byte[4096];
		Deflater d = new Deflater();
		d.setInput(input);
		d.finish();
		int clen = d.deflate(compressed);
		d.end();
		long start = System.nanoTime(), end = start + lifetime * 1_000_000_000L;
		long direct = 0, made = 0;
		boolean full = false;

		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			double s = (System.nanoTime() - start) / 1e9;
			while (!full && direct < (long) (s * kibPerSec)) {
				try {
					buffers.add(ByteBuffer.allocateDirect(64 << 10));
				} catch (OutOfMemoryError e) {
					full = true;
					System.out.println("direct memory full at " + direct + " KiB");
				}
				direct += 64;
			}
			while (made < (long) (s * infPerSec)) {
				Inflater inf = new Inflater();
				inf.setInput(compressed, 0, clen);
				inf.inflate(out);
				inflaters.add(inf);
				made++;
			}
			Thread.sleep(10);
		}
	}
}
