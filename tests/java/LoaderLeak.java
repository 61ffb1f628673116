import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/*
 * A class-loader leak: PER_SEC times a second a new ClassLoader defines the
 * class "Leaky" from bytes built here (no files), initialises it and the
 * Class is kept, so neither the class nor its loader can be unloaded:
 * java.cls.loadedClasses - sun.cls.unloadedClasses, sun.gc.metaspace.used,
 * NMT Class and Metaspace and VM.classloader_stats all rise. Every copy has
 * the same names, so the symbol table does not grow with it.
 * The class: public class Leaky { public int m0() { return 42; } ... m49 }
 * (class file version 52, so straight-line code needs no StackMapTable).
 *
 * Usage: java LoaderLeak.java READY [PER_SEC=20] [LIFETIME_S=600]
 */
public class LoaderLeak {
	static final int METHODS = 50;
	static final List<Class<?>> kept = new ArrayList<>();

	static final class ByteLoader extends ClassLoader {
		Class<?> define(byte[] b) {
			return defineClass("Leaky", b, 0, b.length);
		}
	}

	static byte[] leakyClass() throws IOException {
		ByteArrayOutputStream bos = new ByteArrayOutputStream();
		DataOutputStream o = new DataOutputStream(bos);

		o.writeInt(0xCAFEBABE);
		o.writeShort(0);		/* minor */
		o.writeShort(52);		/* major: Java 8 */
		o.writeShort(7 + METHODS);	/* constant pool count (entries + 1) */
		o.writeByte(1); o.writeUTF("Leaky");			/* #1 */
		o.writeByte(7); o.writeShort(1);			/* #2 Class Leaky */
		o.writeByte(1); o.writeUTF("java/lang/Object");		/* #3 */
		o.writeByte(7); o.writeShort(3);			/* #4 Class Object */
		o.writeByte(1); o.writeUTF("()I");			/* #5 */
		o.writeByte(1); o.writeUTF("Code");			/* #6 */
		for (int i = 0; i < METHODS; i++) {
			o.writeByte(1);
			o.writeUTF("m" + i);				/* #7 + i */
		}
		o.writeShort(0x0021);	/* ACC_PUBLIC | ACC_SUPER */
		o.writeShort(2);	/* this */
		o.writeShort(4);	/* super */
		o.writeShort(0);	/* interfaces */
		o.writeShort(0);	/* fields */
		o.writeShort(METHODS);
		for (int i = 0; i < METHODS; i++) {
			o.writeShort(0x0001);	/* ACC_PUBLIC */
			o.writeShort(7 + i);
			o.writeShort(5);
			o.writeShort(1);	/* one attribute: Code */
			o.writeShort(6);
			o.writeInt(15);		/* 2+2+4+3 code+2+2 */
			o.writeShort(1);	/* max_stack */
			o.writeShort(1);	/* max_locals: this */
			o.writeInt(3);
			o.writeByte(0x10);	/* bipush 42 */
			o.writeByte(42);
			o.writeByte(0xac);	/* ireturn */
			o.writeShort(0);	/* exception table */
			o.writeShort(0);	/* attributes */
		}
		o.writeShort(0);	/* class attributes */
		o.flush();
		return bos.toByteArray();
	}

	public static void main(String[] args) throws Exception {
		double perSec = args.length > 1 ? Double.parseDouble(args[1]) : 20;
		long lifetime = args.length > 2 ? Long.parseLong(args[2]) : 600;
		byte[] bytes = leakyClass();
		long start = System.nanoTime();
		long end = start + lifetime * 1_000_000_000L;
		long made = 0;

		/* The first one is made before READY, so a broken class file fails at once. */
		ByteLoader first = new ByteLoader();
		kept.add(Class.forName("Leaky", true, first.define(bytes).getClassLoader()));
		Files.writeString(Path.of(args[0]), "ready\n");
		while (System.nanoTime() < end) {
			long want = (long) ((System.nanoTime() - start) / 1e9 * perSec);
			for (; made < want; made++) {
				ByteLoader l = new ByteLoader();
				l.define(bytes);
				kept.add(Class.forName("Leaky", true, l));
			}
			Thread.sleep(20);
		}
	}
}
