import java.nio.file.Files;
import java.nio.file.Path;

/*
 * A JNI library that leaks: each request hands a session id to native code
 * (libjnileak.so), which keeps a copy in a context it mallocs and never frees.
 * Usage: java -Djava.library.path=DIR JniLeak READY KIB_PER_SEC [LIFETIME_S=600]
 */
public class JniLeak {
	static { System.loadLibrary("jnileak"); }

	static native long openContext(String session, int bytes);

	static long handle(int i, int bytes) {
		return openContext("session-" + i, bytes); // handle opens a context
	}

	public static void main(String[] args) throws Exception {
		long kibPerSec = Long.parseLong(args[1]);
		long lifetime = args.length > 2 ? Long.parseLong(args[2]) : 600;
		long start = System.nanoTime(), end = start + lifetime * 1_000_000_000L;
		long made = 0, sum = 0;

		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			double s = (System.nanoTime() - start) / 1e9;
			for (; made * 16 < (long) (s * kibPerSec); made++)
				sum += handle((int) made, 16 << 10);
			Thread.sleep(10);
		}
		System.out.println(sum);
	}
}
