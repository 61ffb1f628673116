import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/*
 * A user call chain with known lines down to a native allocation:
 * Orders.main (or Thread.run -> Orders$Worker.run in the workers) ->
 * Orders.parse -> Orders$Codec.open -> new GZIPInputStream -> new Inflater
 * -> zlib's inflateInit2_. Every tenth stream is kept open (its zlib state
 * leaks), the others are closed; garbage and System.gc keep the collector
 * busy, and enough calls are made for the JIT to compile the chain.
 *
 * Usage: java Orders ITERATIONS THREADS [READY [STOP]]
 * Each thread (main and THREADS workers) parses ITERATIONS times; then
 * READY is created. With STOP, the threads go on parsing (one call a
 * millisecond) until STOP exists, at most 120 s. Prints "kept N" and exits 0.
 * With -Dorders.deep=N one more thread parses from N recursive calls of
 * Orders.down deep: a Java stack deeper than a tracker keeps.
 */
public class Orders {
	static final List<InputStream> kept = Collections.synchronizedList(new ArrayList<>());
	static volatile Object sink;

	static class Codec {
		static InputStream open(byte[] data) throws IOException {
			return new GZIPInputStream(new ByteArrayInputStream(data)); // Codec.open
		}
	}

	static int parse(byte[] data, int i) throws IOException {
		InputStream in = Codec.open(data); // parse calls open
		int n = in.read(new byte[512]);
		if (i % 10 == 0)
			kept.add(in);
		else
			in.close();
		sink = new byte[2048]; // garbage for the collector
		return n;
	}

	static class Worker implements Runnable {
		final byte[] data;
		final int iterations;
		final Path stop;

		Worker(byte[] data, int iterations, Path stop) {
			this.data = data;
			this.iterations = iterations;
			this.stop = stop;
		}

		public void run() {
			try {
				loop(data, iterations, stop);
			} catch (Exception e) {
				throw new RuntimeException(e);
			}
		}
	}

	static void down(int n, byte[] data, int iterations, Path stop) throws Exception {
		if (n > 0)
			down(n - 1, data, iterations, stop);
		else
			loop(data, iterations, stop);
	}

	static void loop(byte[] data, int iterations, Path stop) throws Exception {
		long end = System.nanoTime() + 120_000_000_000L;

		for (int i = 0; i < iterations; i++)
			parse(data, i);
		while (stop != null && !Files.exists(stop) && System.nanoTime() < end) {
			parse(data, 1);
			Thread.sleep(1);
		}
	}

	public static void main(String[] args) throws Exception {
		int iterations = Integer.parseInt(args[0]);
		int threads = Integer.parseInt(args[1]);
		Path ready = args.length > 2 ? Path.of(args[2]) : null;
		Path stop = args.length > 3 ? Path.of(args[3]) : null;
		ByteArrayOutputStream bytes = new ByteArrayOutputStream();
		try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
			gz.write(new byte[4096]);
		}
		byte[] data = bytes.toByteArray();
		List<Thread> workers = new ArrayList<>();

		for (int t = 0; t < threads; t++) {
			Thread w = new Thread(new Worker(data, iterations, stop), "worker-" + t);
			w.start();
			workers.add(w);
		}
		int deep = Integer.getInteger("orders.deep", 0);
		if (deep > 0) {
			Thread d = new Thread(() -> {
				try {
					down(deep, data, iterations, stop);
				} catch (Exception e) {
					throw new RuntimeException(e);
				}
			}, "deep");
			d.start();
			workers.add(d);
		}
		for (int i = 0; i < iterations; i++) {
			parse(data, i); // main calls parse
			if (i % 1000 == 999)
				System.gc();
		}
		if (ready != null)
			Files.createFile(ready);
		if (stop != null) {
			long end = System.nanoTime() + 120_000_000_000L;
			while (!Files.exists(stop) && System.nanoTime() < end) {
				parse(data, 1); // main calls parse
				Thread.sleep(1);
			}
		}
		for (Thread w : workers)
			w.join();
		System.out.println("kept " + kept.size());
	}
}
