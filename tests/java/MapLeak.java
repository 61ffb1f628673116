import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/*
 * A leak of mapped files: FileChannel.map of a new 1 MiB file in DIR
 * (seg-N.dat), every page touched, the MappedByteBuffer kept in a list, at
 * MAPS_PER_SEC. A mapping goes only when a GC finds its buffer unreachable,
 * so each one stays, resident, outside the Java heap and outside NMT. At
 * MAX_MAPS the growth stops (the process then holds steady).
 *
 * Usage: java MapLeak.java READY DIR [MAPS_PER_SEC=10] [MAX_MAPS=2000] [LIFETIME_S=600]
 */
public class MapLeak {
	static final List<MappedByteBuffer> kept = new ArrayList<>();

	public static void main(String[] args) throws Exception {
		Path dir = Path.of(args[1]);
		double perSec = args.length > 2 ? Double.parseDouble(args[2]) : 10;
		int max = args.length > 3 ? Integer.parseInt(args[3]) : 2000;
		long lifetime = args.length > 4 ? Long.parseLong(args[4]) : 600;
		long start = System.nanoTime();
		long end = start + lifetime * 1_000_000_000L;

		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			long want = (long) ((System.nanoTime() - start) / 1e9 * perSec);
			while (kept.size() < max && kept.size() <= want) {
				Path f = dir.resolve("seg-" + kept.size() + ".dat");
				try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
					raf.setLength(1 << 20);
					MappedByteBuffer m =
						raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 1 << 20);
					for (int p = 0; p < (1 << 20); p += 4096)
						m.put(p, (byte) 1);
					kept.add(m);
				}
			}
			Thread.sleep(20);
		}
	}
}
