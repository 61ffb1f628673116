import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/*
 * The demo's leaking JVM (make demo): an upload service that takes gzipped
 * uploads, opens each with a GZIPInputStream, reads only its header record to
 * route it, and parks the stream in a map of "pending" uploads that nothing
 * ever removes or closes. The bug is the classic one: a GZIPInputStream that
 * is never close()d keeps its Inflater, and zlib's state (~7 KiB, malloc'd in
 * inflateInit2_) and its 32 KiB window (malloc'd by the first inflate() that
 * stops before the end of the stream, as a partial read does) stay in the C
 * heap, outside the Java heap and outside NMT. Reachable from the map, so no
 * Cleaner frees them either.
 *
 * Usage: java UploadService READY [PER_SEC=50] [LIFETIME_S=120]
 * READY is written once the service takes uploads; the process exits after
 * LIFETIME_S, so a demo that loses it does not leak it for long.
 */
public class UploadService {
	static final Map<Long, InputStream> pending = new HashMap<>();

	public static void main(String[] args) throws Exception {
		double perSec = args.length > 1 ? Double.parseDouble(args[1]) : 50;
		long lifetime = args.length > 2 ? Long.parseLong(args[2]) : 120;
		long start = System.nanoTime();
		long end = start + lifetime * 1_000_000_000L;
		byte[] upload = gzip(64 << 10);
		byte[] header = new byte[4096];
		long id = 0;

		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			long due = (long) ((System.nanoTime() - start) / 1e9 * perSec);
			for (; id < due; id++) {
				InputStream in = new GZIPInputStream(new ByteArrayInputStream(upload));
				if (in.readNBytes(header, 0, header.length) != header.length)
					throw new IllegalStateException("upload shorter than its header");
				pending.put(id, in); /* the bug: never removed, never closed */
			}
			Thread.sleep(10);
		}
	}

	/* A gzipped upload of N bytes of text, compressed well enough that a partial read is partial. */
	static byte[] gzip(int n) throws Exception {
		ByteArrayOutputStream bytes = new ByteArrayOutputStream();
		try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
			for (int i = 0; i < n; i += 64)
				out.write(String.format("record %08d: status=ok region=eu-west payload=....\n", i)
						.getBytes());
		}
		return bytes.toByteArray();
	}
}
