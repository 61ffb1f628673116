import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/*
 * Memory the JVM allocates on Java code's behalf, from methods of known
 * lines: VmLeak.leakBuffer keeps direct buffers (ByteBuffer.allocateDirect
 * -> Unsafe_AllocateMemory0 -> malloc), VmLeak.internNames interns unique
 * strings (the VM's string table), VmLeak.spawn starts short threads (their
 * stacks). Garbage, System.gc and enough calls for the JIT to compile the
 * methods keep the collector and the compiler busy meanwhile.
 *
 * Usage: java VmLeak ROUNDS [READY [STOP]]
 * Each round leaks one 64 KiB buffer, interns 20 strings and, every 50th
 * round, starts a thread. Then READY is created; with STOP the rounds go on
 * (one a millisecond) until STOP exists, at most 120 s. Prints "buffers N"
 * and exits 0.
 */
public class VmLeak {
	static final List<ByteBuffer> kept = Collections.synchronizedList(new ArrayList<>());
	static final List<String> names = new ArrayList<>();
	static volatile Object sink;

	static void leakBuffer() {
		kept.add(ByteBuffer.allocateDirect(64 << 10)); // leakBuffer allocates
	}

	static void internNames(int round) {
		for (int i = 0; i < 20; i++)
			names.add(("vmleak_" + round + "_" + i).intern()); // internNames interns
	}

	static void spawn() throws InterruptedException {
		Thread t = new Thread(() -> sink = new byte[1024]); // spawn starts
		t.start();
		t.join();
	}

	static void round(int i) throws Exception {
		leakBuffer();
		internNames(i);
		if (i % 50 == 0)
			spawn();
		for (int k = 0; k < 16; k++)
			sink = new byte[4096]; // garbage for the collector
		if (i % 500 == 499)
			System.gc();
	}

	public static void main(String[] args) throws Exception {
		int rounds = Integer.parseInt(args[0]);
		Path ready = args.length > 1 ? Path.of(args[1]) : null;
		Path stop = args.length > 2 ? Path.of(args[2]) : null;
		long end = System.nanoTime() + 120_000_000_000L;
		int i = 0;

		for (; i < rounds; i++)
			round(i);
		if (ready != null)
			Files.writeString(ready, "ready\n");
		while (stop != null && !Files.exists(stop) && System.nanoTime() < end) {
			round(i++);
			Thread.sleep(1);
		}
		System.out.println("buffers " + kept.size());
	}
}
