import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/*
 * Mapped files kept through a small method the JIT inlines: main calls
 * keep, keep calls open, open maps a 64 KiB file in DIR (seg-N.dat). First
 * WARM calls map one file (warm.dat), keeping every other buffer (both
 * ways through keep, so its compiled code has no trap to leave it by), so
 * a JIT compiles keep (with -Xbatch, before READY is written); they are
 * dropped, then the leak: a new file each time, kept. Compiled, with open inlined (CompileCommand=inline), the
 * mapping is made from one nmethod, keep's; interpreted (-Xint), from two
 * frames. A trace must name the same Java frames, lines included, either
 * way. At MAX_MAPS the growth stops.
 *
 * Usage: java MapInline READY DIR [MAPS_PER_SEC=50] [MAX_MAPS=5000] [LIFETIME_S=600] [WARM=0]
 */
public class MapInline {
	static final List<MappedByteBuffer> kept = new ArrayList<>();

	static MappedByteBuffer open(Path file) throws IOException {
		try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
			raf.setLength(1 << 16);
			return raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 1 << 16);
		}
	}

	static void keep(Path file, boolean hold) throws IOException {
		MappedByteBuffer m = open(file);
		m.put(0, (byte) 1);
		if (hold)
			kept.add(m);
	}

	public static void main(String[] args) throws Exception {
		Path dir = Path.of(args[1]);
		double perSec = args.length > 2 ? Double.parseDouble(args[2]) : 50;
		int max = args.length > 3 ? Integer.parseInt(args[3]) : 5000;
		long lifetime = args.length > 4 ? Long.parseLong(args[4]) : 600;
		int warm = args.length > 5 ? Integer.parseInt(args[5]) : 0;

		for (int i = 0; i < warm; i++)
			keep(dir.resolve("warm.dat"), i % 2 == 0);
		kept.clear();
		long start = System.nanoTime();
		long end = start + lifetime * 1_000_000_000L;
		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			long want = (long) ((System.nanoTime() - start) / 1e9 * perSec);
			while (kept.size() < max && kept.size() <= want)
				keep(dir.resolve("seg-" + kept.size() + ".dat"), true);
			Thread.sleep(20);
		}
	}
}
