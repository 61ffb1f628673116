import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/*
 * A healthy program that churns direct buffers: ByteBuffer.allocateDirect of
 * SIZE_KIB at PER_SEC a second, each used once and kept in a ring of RING
 * buffers, the oldest dropped. Nothing else allocates much on the Java heap,
 * so a young collection comes rarely, and until one does the dropped
 * buffers' native memory stays allocated: native memory and DirectByteBuffer
 * objects grow exactly as a leak's would. Only a collection tells them apart.
 *
 * Usage: java DirectChurn.java READY [PER_SEC=200] [SIZE_KIB=16] [RING=64] [LIFETIME_S=600]
 */
public class DirectChurn {
	static volatile long sink;

	public static void main(String[] args) throws Exception {
		int perSec = args.length > 1 ? Integer.parseInt(args[1]) : 200;
		int size = (args.length > 2 ? Integer.parseInt(args[2]) : 16) << 10;
		int ringLen = args.length > 3 ? Integer.parseInt(args[3]) : 64;
		long lifetime = args.length > 4 ? Long.parseLong(args[4]) : 600;
		ByteBuffer[] ring = new ByteBuffer[ringLen];
		long start = System.nanoTime();
		long end = start + lifetime * 1_000_000_000L;
		long made = 0;

		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			long want = (long) ((System.nanoTime() - start) / 1e9 * perSec);
			while (made < want) {
				ByteBuffer b = ByteBuffer.allocateDirect(size);
				b.putLong(0, made);
				sink += b.getLong(0);
				ring[(int) (made % ringLen)] = b;
				made++;
			}
			Thread.sleep(5);
		}
	}
}
