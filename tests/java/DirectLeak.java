import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/*
 * A direct-buffer leak: ByteBuffer.allocateDirect of 64 KiB, 256 KiB and
 * 1 MiB in turn (average 448 KiB), kept in a list, at KIB_PER_SEC. The memory
 * comes from Unsafe_AllocateMemory0 (malloc, NMT category Other) and is
 * zeroed by allocateDirect, so it is resident. When -XX:MaxDirectMemorySize
 * (default: -Xmx) is reached the growth stops and "full" is printed: the
 * process then holds steady rather than dying.
 *
 * Usage: java DirectLeak.java READY [KIB_PER_SEC=2048] [LIFETIME_S=600]
 */
public class DirectLeak {
	static final List<ByteBuffer> kept = new ArrayList<>();
	static final int[] SIZES = { 64 << 10, 256 << 10, 1 << 20 };

	public static void main(String[] args) throws Exception {
		long kibPerSec = args.length > 1 ? Long.parseLong(args[1]) : 2048;
		long lifetime = args.length > 2 ? Long.parseLong(args[2]) : 600;
		long start = System.nanoTime();
		long end = start + lifetime * 1_000_000_000L;
		long allocated = 0;
		int next = 0;
		boolean full = false;

		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			long want = (long) ((System.nanoTime() - start) / 1e9 * kibPerSec * 1024);
			while (!full && allocated + SIZES[next] <= want) {
				try {
					kept.add(ByteBuffer.allocateDirect(SIZES[next]));
				} catch (OutOfMemoryError e) {
					full = true;
					System.out.println("full " + allocated);
					break;
				}
				allocated += SIZES[next];
				next = (next + 1) % SIZES.length;
			}
			Thread.sleep(10);
		}
	}
}
