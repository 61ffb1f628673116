/* Idle: a JVM that does nothing for a bounded time, as an attach target for tests and benchmarks. */
public class Idle {
	public static void main(String[] args) throws Exception {
		long seconds = args.length > 0 ? Long.parseLong(args[0]) : 120;
		if (args.length > 1)
			java.nio.file.Files.writeString(java.nio.file.Path.of(args[1]), "ready\n");
		Thread.sleep(seconds * 1000);
	}
}
