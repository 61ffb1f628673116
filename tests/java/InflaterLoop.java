import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/*
 * Makes Inflaters in a loop and never end()s them, then exits on its own:
 * zlib's state and 32 KiB window, malloc'd by inflateInit2_ under
 * Java_java_util_zip_Inflater_init, stay live. The loop runs long enough for
 * the JIT to compile it. Usage: java InflaterLoop.java ROUNDS PER_ROUND SLEEP_MS
 */
public class InflaterLoop {
	static final List<Inflater> kept = new ArrayList<>();

	static void round(int n, byte[] compressed, int clen, byte[] out) throws Exception {
		for (int i = 0; i < n; i++) {
			Inflater inf = new Inflater();
			inf.setInput(compressed, 0, clen);
			inf.inflate(out);
			kept.add(inf);
		}
	}

	public static void main(String[] args) throws Exception {
		int rounds = Integer.parseInt(args[0]);
		int per = Integer.parseInt(args[1]);
		long sleep = Long.parseLong(args[2]);
		Deflater d = new Deflater();
		d.setInput(new byte[4096]);
		d.finish();
		byte[] compressed = new byte[8192];
		int clen = d.deflate(compressed);
		d.end();
		byte[] out = new byte[4096];
		for (int r = 0; r < rounds; r++) {
			round(per, compressed, clen, out);
			Thread.sleep(sleep);
		}
		System.out.println("kept " + kept.size());
	}
}
