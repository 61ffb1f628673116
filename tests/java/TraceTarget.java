// TraceTarget: a JVM for 'offheap trace' tests. Thread "direct-grower" allocates a 1 MiB
// direct buffer every 50 ms and keeps it (glibc serves it with mmap); thread "jit-grower" calls
// grow() 2,000 times with 1 KiB (so the JIT compiles it), writes args[0].jit, then keeps a
// 160 KiB buffer from grow() every 100 ms (mapped from compiled code); the main thread writes a
// heartbeat counter to args[0] every 20 ms; the JVM exits after args[1] seconds.
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

public class TraceTarget {
	static ByteBuffer grow(int size) {
		ByteBuffer b = ByteBuffer.allocateDirect(size);
		b.put(0, (byte) 1);
		return b;
	}

	public static void main(String[] args) throws Exception {
		Path beat = Path.of(args[0]);
		long end = System.currentTimeMillis() + Long.parseLong(args[1]) * 1000;
		List<ByteBuffer> kept = new ArrayList<>();
		Thread grower = new Thread(() -> {
			try {
				while (true) {
					ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
					b.put(0, (byte) 1);
					synchronized (kept) {
						kept.add(b);
					}
					Thread.sleep(50);
				}
			} catch (InterruptedException e) {
				// exit
			}
		}, "direct-grower");
		grower.setDaemon(true);
		grower.start();
		Thread jit = new Thread(() -> {
			try {
				for (int i = 0; i < 2000; i++)
					grow(1024);
				Files.writeString(Path.of(args[0] + ".jit"), "compiled");
				while (true) {
					ByteBuffer b = grow(160 << 10);
					synchronized (kept) {
						kept.add(b);
					}
					Thread.sleep(100);
				}
			} catch (Exception e) {
				// exit
			}
		}, "jit-grower");
		jit.setDaemon(true);
		jit.start();
		Path tmp = Path.of(args[0] + ".tmp");
		for (long n = 1; System.currentTimeMillis() < end; n++) {
			Files.writeString(tmp, Long.toString(n));
			/* one rename(2): without ATOMIC_MOVE the JDK unlinks the old file first */
			Files.move(tmp, beat, StandardCopyOption.ATOMIC_MOVE);
			Thread.sleep(20);
		}
		System.exit(0);
	}
}
