import java.io.FileOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/*
 * DirectHold: holds MIB MiB of direct buffers (1 MiB each, zeroed by
 * allocateDirect, so resident), writes READY, then idles for LIFETIME_S.
 * With MIB = 0 it touches no NIO at all: the ready file goes through
 * java.io, because java.nio.file would take a temporary direct buffer and
 * put a few KiB into NMT "Other". So NMT prints no "Other" line then.
 *
 * Usage: java -cp classes DirectHold MIB READY [LIFETIME_S=300]
 */
public class DirectHold {
	static final List<ByteBuffer> kept = new ArrayList<>();

	public static void main(String[] args) throws Exception {
		int mib = Integer.parseInt(args[0]);
		long lifetime = args.length > 2 ? Long.parseLong(args[2]) : 300;

		for (int i = 0; i < mib; i++)
			kept.add(ByteBuffer.allocateDirect(1 << 20));
		try (FileOutputStream out = new FileOutputStream(args[1])) {
			out.write("ready\n".getBytes());
		}
		Thread.sleep(lifetime * 1000);
	}
}
