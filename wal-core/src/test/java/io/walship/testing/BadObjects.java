package io.walship.testing;

import io.walship.BadObjectException;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.Condition;

/**
 * The condition "a {@link BadObjectException} of one of these kinds", for
 * {@code assertThatThrownBy(...).is(badObject(TXID_GAP))}: as precise as checking a class, now that
 * bad objects are one type with a kind.
 */
public final class BadObjects {
    private BadObjects() {
    }

    public static Condition<Throwable> badObject(BadObjectException.Kind... kinds) {
        List<BadObjectException.Kind> allowed = Arrays.asList(kinds);
        return new Condition<>(e -> e instanceof BadObjectException bad && allowed.contains(bad.kind()),
                "a bad object of kind %s", allowed);
    }
}
