// TraceExit: exits with the code given as args[0] after starting a few threads, for exit code
// pass-through tests of 'offheap trace -- java ...'.
public class TraceExit {
	public static void main(String[] args) throws Exception {
		Thread[] ts = new Thread[4];
		for (int i = 0; i < ts.length; i++) {
			ts[i] = new Thread(() -> {
				byte[][] junk = new byte[64][];
				for (int k = 0; k < junk.length; k++)
					junk[k] = new byte[64 << 10];
			}, "worker-" + i);
			ts[i].start();
		}
		for (Thread t : ts)
			t.join();
		System.exit(Integer.parseInt(args[0]));
	}
}
