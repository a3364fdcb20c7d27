/**
 * walship's stored formats: segments, snapshots, object keys and the database checksum.
 * Used by the primary, the replica, the command line and the benchmarks; the byte layout is
 * in {@link io.walship.format.FormatLayout} and {@code docs/FORMAT.md}.
 */
package io.walship.format;
