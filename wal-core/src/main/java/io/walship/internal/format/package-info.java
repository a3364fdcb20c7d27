/**
 * Internal, not API: the readers and writers of walship's stored formats (segments, snapshots,
 * the block stream, the database checksum) that the primary, the replica, the compactor, the
 * command line and the benchmarks share. The format itself is documented in
 * {@code docs/FORMAT.md} with its constants in {@link io.walship.format.FormatLayout}, and keys
 * in {@link io.walship.format.ObjectKey}: those stay API. May change in any release. ADR 0011.
 */
package io.walship.internal.format;
