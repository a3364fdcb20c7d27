package io.walship.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs a program's {@code main} in this JVM and returns what it printed, for the examples' tests. */
public final class StandardOutput {
    private StandardOutput() {
    }

    /** A {@code main} method. */
    public interface Main {
        void main(String[] args) throws Exception;
    }

    /** What {@code main(args)} wrote to {@code System.out}; the stream is restored afterwards. */
    public static synchronized String of(Main main, String... args) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            main.main(args);
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
