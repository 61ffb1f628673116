// GcIdle: allocates, collects, writes READY_FILE (argv[0]) then idles so counters stay still.
import java.nio.file.*;
import java.util.*;

public class GcIdle {
	static List<byte[]> keep = new ArrayList<>();

	public static void main(String[] args) throws Exception {
		for (int i = 0; i < 2000; i++) {
			byte[] b = new byte[16 * 1024];
			if (i % 4 == 0)
				keep.add(b);
		}
		System.gc();
		Files.writeString(Path.of(args[0]), "ready\n");
		Thread.sleep(Long.parseLong(args.length > 1 ? args[1] : "300000"));
	}
}
