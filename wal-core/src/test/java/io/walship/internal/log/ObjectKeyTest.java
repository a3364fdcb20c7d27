package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ObjectKeyTest {
    @Test
    void segment_formatsSixteenLowercaseHexDigits() {
        assertThat(ObjectKey.segment(1234)).isEqualTo("log/00000000000004d2");
        assertThat(ObjectKey.snapshot(0)).isEqualTo("snapshots/0000000000000000");
    }

    @Test
    void parse_roundTripsAndSortsNumerically() {
        assertThat(ObjectKey.parseSegment(ObjectKey.segment(Long.MAX_VALUE))).contains(Long.MAX_VALUE);
        assertThat(ObjectKey.segment(255).compareTo(ObjectKey.segment(256))).isNegative();
    }

    @Test
    void parse_malformedKeys_areEmpty() {
        assertThat(ObjectKey.parseSegment("log/00000000000004D2")).isEmpty();
        assertThat(ObjectKey.parseSegment("log/4d2")).isEmpty();
        assertThat(ObjectKey.parseSegment("log/00000000000004d2.tmp")).isEmpty();
        assertThat(ObjectKey.parseSegment("snapshots/00000000000004d2")).isEmpty();
        assertThat(ObjectKey.parseSnapshot("snapshots/ffffffffffffffff")).isEmpty();
        assertThat(ObjectKey.parseSnapshot("snapshots/000000000000000g")).isEmpty();
    }

    @Test
    void holders_areTheSegmentThenEachLevelsBlockHighestFirst() {
        assertThat(ObjectKey.holders(0x1234)).extracting(ObjectKey.LogKey::key).containsExactly(
                "log/0000000000001234", "log/5/0000000000000000", "log/4/0000000000000000",
                "log/3/0000000000001000", "log/2/0000000000001200", "log/1/0000000000001230");
    }
}
