package io.walship.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * A test class of the second tier: kills, gigabyte transactions, races over thousands of rounds,
 * a thousand databases in one JVM. {@code mvn -B test} leaves them out (the first tier, a few
 * minutes on two cores); {@code mvn -B test -Pheavy} runs only them; CI runs both, in that order
 * (.ci/run, docs/adr/0024-test-tiers.md). What such a class proves is no less binding: a failure
 * in the second tier fails CI like one in the first.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(Heavy.TAG)
public @interface Heavy {
    /** The JUnit tag, as the build selects it. */
    String TAG = "heavy";
}
