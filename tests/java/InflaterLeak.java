import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/*
 * Keeps Inflaters that are never end()ed, the off-heap leak of an unclosed
 * GZIPInputStream: zlib's state and window are malloc'd by native code that
 * NMT does not track. Usage: java InflaterLeak.java TRIGGER COUNT LIFETIME_S
 * Each time TRIGGER appears it is deleted and COUNT more Inflaters are made
 * and used once (so zlib allocates its 32 KiB window); then "done N" is
 * written to TRIGGER.done.
 */
public class InflaterLeak {
	public static void main(String[] args) throws Exception {
		Path trigger = Path.of(args[0]);
		int count = Integer.parseInt(args[1]);
		long end = System.currentTimeMillis() + Long.parseLong(args[2]) * 1000;
		List<Inflater> kept = new ArrayList<>();
		byte[] input = new byte[4096];
		Deflater d = new Deflater();
		d.setInput(input);
		d.finish();
		byte[] compressed = new byte[8192];
		int clen = d.deflate(compressed);
		d.end();
		while (System.currentTimeMillis() < end) {
			if (Files.exists(trigger)) {
				Files.delete(trigger);
				byte[] out = new byte[4096];
				for (int i = 0; i < count; i++) {
					Inflater inf = new Inflater();
					inf.setInput(compressed, 0, clen);
					inf.inflate(out);
					kept.add(inf);
				}
				Files.writeString(Path.of(args[0] + ".done"), "done " + kept.size() + "\n");
			}
			Thread.sleep(50);
		}
	}
}
