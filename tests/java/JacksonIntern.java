import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/*
 * Jackson (Debian's jackson-core) parsing JSON whose keys are ids, with
 * JsonFactory.Feature.INTERN_FIELD_NAMES on (its default): every new field
 * name goes through String.intern(). PER_SEC documents of 10 random keys
 * are parsed a second, paced by the clock, and every field name is kept (an
 * application that caches what it parsed), so the JVM's StringTable grows
 * for good. Started with NMT off, this is the case where only the
 * VM.stringtable probe can tell the leak apart.
 *
 * Usage: java -cp jackson-core.jar:. JacksonIntern READY [PER_SEC=1000] [LIFETIME_S=600]
 */
public class JacksonIntern {
	static final List<String> kept = new ArrayList<>();

	public static void main(String[] args) throws Exception {
		double perSec = args.length > 1 ? Double.parseDouble(args[1]) : 1000;
		long lifetime = args.length > 2 ? Long.parseLong(args[2]) : 600;
		JsonFactory factory = JsonFactory.builder()
			.enable(JsonFactory.Feature.INTERN_FIELD_NAMES)
			.enable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
			.build();
		SplittableRandom rnd = new SplittableRandom(7);
		long start = System.nanoTime(), end = start + lifetime * 1_000_000_000L;
		long done = 0;

		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			long want = (long) ((System.nanoTime() - start) / 1e9 * perSec);
			for (; done < want; done++) {
				StringBuilder doc = new StringBuilder("{");
				for (int k = 0; k < 10; k++)
					doc.append(k == 0 ? "" : ",").append("\"id_")
						.append(Long.toHexString(rnd.nextLong())).append("\":").append(k);
				doc.append('}');
				try (JsonParser p = factory.createParser(doc.toString())) {
					for (JsonToken t; (t = p.nextToken()) != null;)
						if (t == JsonToken.FIELD_NAME)
							kept.add(p.getCurrentName());
				}
			}
			Thread.sleep(10);
		}
	}
}
