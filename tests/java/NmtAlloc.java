/*
 * NmtAlloc: a JVM that allocates direct memory on demand, for the NMT tests.
 *
 *   java NmtAlloc.java DIR MIB
 *
 * Writes DIR/ready once running. Each time DIR/alloc appears it allocates
 * MIB MiB with ByteBuffer.allocateDirect (NMT category Other; Internal on
 * JDK 8), keeps it reachable, deletes DIR/alloc and writes DIR/allocated
 * with the number of MiB held so far. Exits when DIR disappears or after
 * ten minutes, so a lost test never leaves it running for long.
 */
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public class NmtAlloc {
	public static void main(String[] args) throws Exception {
		Path dir = Path.of(args[0]);
		int mib = Integer.parseInt(args[1]);
		Path trigger = dir.resolve("alloc");
		List<ByteBuffer> held = new ArrayList<>();
		long end = System.currentTimeMillis() + 600_000;

		Files.writeString(dir.resolve("ready.tmp"), ProcessHandle.current().pid() + "\n");
		Files.move(dir.resolve("ready.tmp"), dir.resolve("ready"));
		while (System.currentTimeMillis() < end && Files.isDirectory(dir)) {
			if (Files.exists(trigger)) {
				ByteBuffer b = ByteBuffer.allocateDirect(mib << 20);
				/* touch every page so the memory is really used */
				for (int i = 0; i < b.capacity(); i += 4096)
					b.put(i, (byte) 1);
				held.add(b);
				Files.delete(trigger);
				Path tmp = dir.resolve("allocated.tmp");
				Files.writeString(tmp, (held.size() * mib) + "\n");
				/* one rename(2): without ATOMIC_MOVE the JDK unlinks the old file first */
				Files.move(tmp, dir.resolve("allocated"),
					   java.nio.file.StandardCopyOption.ATOMIC_MOVE);
			}
			Thread.sleep(50);
		}
	}
}
