/**
 * Internal, not API: the threads every database of a {@code Walship} runtime shares. Each
 * database's background work (capture, uploads, maintenance, compaction, following) runs in a
 * {@link io.walship.internal.work.Lane}: serial for that database, on a bounded pool shared by
 * all of them. Public only so that the replica module can use it; it may change in any release.
 * See ADR 0022.
 */
package io.walship.internal.work;
