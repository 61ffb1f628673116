import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/*
 * String.intern() of unbounded unique keys, the way Jackson's
 * INTERN_FIELD_NAMES interns the field names of JSON whose keys are ids:
 * PER_SEC names a second like "field_3f9a0c12d4e5b678" are interned and
 * dropped. Since JDK 9 the string table holds interned strings weakly, so
 * what is not kept is freed by the next GC that cleans the table; with
 * KEEP_EVERY=N every Nth interned string is also kept (the parsed maps that
 * an application caches), which makes the table and the heap grow for good.
 *
 * Usage: java InternLeak.java READY [PER_SEC=20000] [KEEP_EVERY=0] [LIFETIME_S=600]
 */
public class InternLeak {
	static final List<String> kept = new ArrayList<>();

	public static void main(String[] args) throws Exception {
		double perSec = args.length > 1 ? Double.parseDouble(args[1]) : 20000;
		long keepEvery = args.length > 2 ? Long.parseLong(args[2]) : 0;
		long lifetime = args.length > 3 ? Long.parseLong(args[3]) : 600;
		SplittableRandom rnd = new SplittableRandom(42);
		long start = System.nanoTime();
		long end = start + lifetime * 1_000_000_000L;
		long made = 0;

		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			long want = (long) ((System.nanoTime() - start) / 1e9 * perSec);
			for (; made < want; made++) {
				String s = ("field_" + Long.toHexString(rnd.nextLong())).intern();
				if (keepEvery > 0 && made % keepEvery == 0)
					kept.add(s);
			}
			Thread.sleep(10);
		}
	}
}
