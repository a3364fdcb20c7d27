/**
 * Internal, not API: the log layer. Everything walship knows about what it stores lives here and
 * nowhere else: the keys objects are stored under ({@link io.walship.internal.log.ObjectKey}), the
 * byte layout's constants ({@link io.walship.internal.log.FormatLayout}, documented in
 * {@code docs/FORMAT.md}), the codecs of segments and snapshots, the block stream and the database
 * checksum, positions, the catalog of a listing, lookup by txid without a listing, the stored
 * history walk, and fetching, prefetching and applying objects to a database image.
 *
 * <p>The primary, the replica, the compactor, the restore API and the command line sit above it
 * and share it; it depends only on the storage SPI ({@code io.walship.storage}) and walship's
 * exception and value types ({@code io.walship}). Public only for walship's own modules; may
 * change in any release. ADR 0011, ADR 0025.
 */
package io.walship.internal.log;
