import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/*
 * A healthy server under load, the control for doctor's leak rules: Debian's
 * H2 database as a TCP server on the loopback, and CLIENTS threads that each
 * keep a JDBC connection to it and, as fast as they can, insert a row,
 * read rows back and delete the oldest, so the table holds a bounded number
 * of rows. Sockets, threads, statements and pages churn; nothing is kept.
 * READY is written once the server answers and the table is full, and
 * READY.warm once the clients made WARM_OPS round trips in all: the JIT has
 * compiled the hot paths and the pools have their size, so a diagnosis from
 * then on sees the steady state, however slow the machine.
 *
 * Usage: java -cp h2.jar:. H2Healthy READY [CLIENTS=4] [LIFETIME_S=600]
 */
public class H2Healthy {
	static final int ROWS = 2000;
	static final long WARM_OPS = 20000;
	static final java.util.concurrent.atomic.AtomicLong ops = new java.util.concurrent.atomic.AtomicLong();
	static volatile String warmFile;

	public static void main(String[] args) throws Exception {
		int clients = args.length > 1 ? Integer.parseInt(args[1]) : 4;
		long lifetime = args.length > 2 ? Long.parseLong(args[2]) : 600;
		int port;
		try (ServerSocket s = new ServerSocket(0)) {
			port = s.getLocalPort();
		}
		org.h2.tools.Server server = org.h2.tools.Server
			.createTcpServer("-tcpPort", Integer.toString(port), "-ifNotExists").start();
		String url = "jdbc:h2:tcp://127.0.0.1:" + port + "/mem:bench;DB_CLOSE_DELAY=-1";
		try (Connection c = DriverManager.getConnection(url, "sa", "");
		     Statement st = c.createStatement()) {
			st.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(200))");
			for (int i = 0; i < ROWS; i++)
				st.execute("INSERT INTO t VALUES (" + i + ", 'row " + i + "')");
		}
		long end = System.nanoTime() + lifetime * 1_000_000_000L;
		List<Thread> threads = new ArrayList<>();
		for (int k = 0; k < clients; k++) {
			final long base = (k + 1) * 1_000_000_000L;
			Thread t = new Thread(() -> work(url, base, end), "client-" + k);
			t.setDaemon(true);
			t.start();
			threads.add(t);
		}
		warmFile = args[0] + ".warm";
		Files.writeString(Path.of(args[0]), "ready " + port + "\n");
		for (Thread t : threads)
			t.join();
		server.stop();
	}

	static void work(String url, long base, long end) {
		try (Connection c = DriverManager.getConnection(url, "sa", "");
		     PreparedStatement ins = c.prepareStatement("INSERT INTO t VALUES (?, ?)");
		     PreparedStatement sel = c.prepareStatement("SELECT v FROM t WHERE id >= ? ORDER BY id LIMIT 20");
		     PreparedStatement del = c.prepareStatement("DELETE FROM t WHERE id = ?")) {
			for (long n = 0; System.nanoTime() < end; n++) {
				ins.setLong(1, base + n);
				ins.setString(2, "payload " + n);
				ins.executeUpdate();
				sel.setLong(1, base + n - 10);
				try (ResultSet rs = sel.executeQuery()) {
					while (rs.next())
						rs.getString(1);
				}
				if (n >= ROWS / 4) {
					del.setLong(1, base + n - ROWS / 4);
					del.executeUpdate();
				}
				if (ops.incrementAndGet() == WARM_OPS)
					Files.writeString(Path.of(warmFile), "warm\n");
			}
		} catch (Exception e) {
			e.printStackTrace();
			System.exit(1);
		}
	}
}
