import java.net.*;
import java.nio.file.*;
import java.util.*;
import javax.tools.*;

/* Hot reload: compiles a plugin once, then "reloads" it with a fresh
 * URLClassLoader per reload and keeps every old loader in a registry.
 * args: reloads/s lifetime_s */
public class PluginReloader {
    static final List<Object> registry = new ArrayList<>();

    public static void main(String[] a) throws Exception {
        int rps = Integer.parseInt(a[0]);
        long end = System.currentTimeMillis() + Long.parseLong(a[1]) * 1000;
        Path dir = Files.createTempDirectory("plugins");
        StringBuilder src = new StringBuilder("public class Plugin implements Runnable { public void run() {");
        for (int i = 0; i < 8; i++) src.append(" new P" + i + "().go();");
        src.append(" }\n");
        for (int i = 0; i < 8; i++)
            src.append(" static class P" + i + " { int x" + i + "; String s = \"p" + i + "\"; void go() { x" + i + " += s.length(); } }\n");
        src.append("}\n");
        Files.writeString(dir.resolve("Plugin.java"), src);
        JavaCompiler jc = ToolProvider.getSystemJavaCompiler();
        if (jc.run(null, null, null, "-d", dir.toString(), dir.resolve("Plugin.java").toString()) != 0)
            throw new IllegalStateException("compile");
        URL[] urls = { dir.toUri().toURL() };
        while (System.currentTimeMillis() < end) {
            URLClassLoader l = new URLClassLoader(urls, PluginReloader.class.getClassLoader().getParent());
            Runnable p = (Runnable) l.loadClass("Plugin").getDeclaredConstructor().newInstance();
            p.run();
            registry.add(p);
            Thread.sleep(1000 / rps);
        }
    }
}
