package io.walship.internal.log;

/**
 * Every number of walship's on-disk formats, in one place. The prose and the tables are in
 * {@code docs/FORMAT.md}; {@code FormatLayoutTest} checks those tables against these constants.
 *
 * <p>All integers are big-endian. Offsets are built from the previous field's offset plus its
 * size, so a field cannot silently overlap another.
 *
 * <pre>
 * segment   = segment header (48) | block stream | trailer (8)
 * snapshot  = snapshot header (40) | block stream | trailer (8)
 * block     = raw length u32 | compressed length u32 | LZ4 block   (raw length 0 ends the stream)
 * trailer   = xxHash64 (seed 0) of every byte before it
 *
 * segment header                         snapshot header
 *  0 magic "WSLG"   u32                   0 magic "WSSN"    u32
 *  4 version        u16                   4 version         u16
 *  6 flags          u16 (0)               6 flags           u16 (0)
 *  8 page size      u32                   8 page size       u32
 * 12 txn count      u32                  12 page count      u32
 * 16 first txid     u64                  16 txid            u64
 * 24 last txid      u64                  24 db checksum     u64
 * 32 checksum before u64                 32 created millis  u64
 * 40 raw body bytes u64                  40 (block stream)
 * 48 (block stream)
 *
 * transaction record (inside a segment's decompressed body)
 *  0 txid u64 | 8 commit millis u64 | 16 db size in pages u32 | 20 page count u32
 * 24 page count x (pgno u32 | page image) | checksum after u64
 * segment version 2: pgno with bit 31 set = the image is XOR'ed with the page's previous image
 *                    in this segment (delta table: DELTA_TABLE_BYTES / page size slots, pgno mod slots)
 *
 * encrypted envelope (around a stored object when encryption is on; see ENVELOPE_*)
 *   0 magic "WSEC" u32 | 4 version u16 | 6 flags u16 (0) | 8 chunk size u32 | 12 key id length u8
 *  13 key id (64, zero-padded) | 77 salt (32) | 109 nonce prefix (7) | 116 chunks
 *   chunk i = AES-256-GCM(object key, nonce = prefix | i u32 | last u8, aad = the 116 header bytes)
 *             of chunk-size plaintext bytes (fewer in the last), then its 16-byte tag
 *   object key = HKDF-SHA256(key of the key id, salt, "walship envelope 1 " + storage key)
 *
 * checkpoint record (local, next to a primary database)
 *  0 header slot 0 (84 + xxHash64 8) | 4096 header slot 1 | 8192 page hashes, u64 per page
 * header: 0 magic "WSCK" | 4 version | 6 flags | 8 page size | 12 page count | 16 txid | 24 db checksum
 *         32 applying last txid | 40 file size | 48 mtime nanos | 56 ctime nanos | 64 inode
 *         72 folded WAL salt1 | 76 folded WAL salt2 | 80 sequence
 * </pre>
 */
public final class FormatLayout {
    private FormatLayout() {
    }

    /** Version of snapshots, replica state and checkpoint records: the only one this build writes and reads. */
    public static final int FORMAT_VERSION = 1;
    /**
     * Version of the segments this build writes. Version 2 adds page deltas ({@link #PGNO_DELTA_FLAG});
     * readers take every version from 1 to this one.
     */
    public static final int SEGMENT_FORMAT_VERSION = 2;

    /** "WSLG": walship log segment. */
    public static final int SEGMENT_MAGIC = 0x57534C47;
    /** "WSSN": walship snapshot. */
    public static final int SNAPSHOT_MAGIC = 0x5753534E;

    // ---- header prefix shared by segment and snapshot ----
    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
    public static final int FLAGS_OFFSET = VERSION_OFFSET + Short.BYTES;
    public static final int PAGE_SIZE_OFFSET = FLAGS_OFFSET + Short.BYTES;

    // ---- segment header ----
    public static final int SEGMENT_TXN_COUNT_OFFSET = PAGE_SIZE_OFFSET + Integer.BYTES;
    public static final int SEGMENT_FIRST_TXID_OFFSET = SEGMENT_TXN_COUNT_OFFSET + Integer.BYTES;
    public static final int SEGMENT_LAST_TXID_OFFSET = SEGMENT_FIRST_TXID_OFFSET + Long.BYTES;
    public static final int SEGMENT_CHECKSUM_BEFORE_OFFSET = SEGMENT_LAST_TXID_OFFSET + Long.BYTES;
    public static final int SEGMENT_RAW_BODY_BYTES_OFFSET = SEGMENT_CHECKSUM_BEFORE_OFFSET + Long.BYTES;
    public static final int SEGMENT_HEADER_SIZE = SEGMENT_RAW_BODY_BYTES_OFFSET + Long.BYTES;

    // ---- transaction record inside a segment body ----
    public static final int TXN_TXID_OFFSET = 0;
    public static final int TXN_COMMIT_MILLIS_OFFSET = TXN_TXID_OFFSET + Long.BYTES;
    public static final int TXN_DB_PAGES_OFFSET = TXN_COMMIT_MILLIS_OFFSET + Long.BYTES;
    public static final int TXN_PAGE_COUNT_OFFSET = TXN_DB_PAGES_OFFSET + Integer.BYTES;
    public static final int TXN_HEADER_SIZE = TXN_PAGE_COUNT_OFFSET + Integer.BYTES;
    /** Each page image in a record is preceded by its page number. */
    public static final int TXN_PGNO_SIZE = Integer.BYTES;
    /**
     * Segment version 2: this bit set in a record's page number says the image that follows is
     * the XOR of the page with its image earlier in the same segment, held in the delta table
     * (it compresses to almost nothing when a few bytes of the page changed). Page numbers stay
     * below 2^31.
     */
    public static final int PGNO_DELTA_FLAG = 0x8000_0000;
    /**
     * Segment version 2: the delta table holds this many bytes of page images, in
     * {@code DELTA_TABLE_BYTES / page size} slots; page {@code p} lives in slot
     * {@code p mod slots}, replacing the page that was there. Writer and reader fill it alike, with
     * every page of the segment in order, so a delta's base is always in its slot.
     */
    public static final int DELTA_TABLE_BYTES = 1 << 21;
    /** The database checksum after the transaction closes each record. */
    public static final int TXN_TRAILER_SIZE = Long.BYTES;

    // ---- snapshot header ----
    public static final int SNAPSHOT_PAGE_COUNT_OFFSET = PAGE_SIZE_OFFSET + Integer.BYTES;
    public static final int SNAPSHOT_TXID_OFFSET = SNAPSHOT_PAGE_COUNT_OFFSET + Integer.BYTES;
    public static final int SNAPSHOT_CHECKSUM_OFFSET = SNAPSHOT_TXID_OFFSET + Long.BYTES;
    public static final int SNAPSHOT_CREATED_MILLIS_OFFSET = SNAPSHOT_CHECKSUM_OFFSET + Long.BYTES;
    public static final int SNAPSHOT_HEADER_SIZE = SNAPSHOT_CREATED_MILLIS_OFFSET + Long.BYTES;

    // ---- block stream ----
    public static final int BLOCK_RAW_LENGTH_OFFSET = 0;
    public static final int BLOCK_COMPRESSED_LENGTH_OFFSET = BLOCK_RAW_LENGTH_OFFSET + Integer.BYTES;
    public static final int BLOCK_HEADER_SIZE = BLOCK_COMPRESSED_LENGTH_OFFSET + Integer.BYTES;
    /** Largest uncompressed block; bounds what a reader allocates per block. */
    public static final int MAX_BLOCK_RAW_BYTES = 1 << 20;

    // ---- trailer ----
    public static final int TRAILER_SIZE = Long.BYTES;
    /** Seed of the whole-object xxHash64. */
    public static final long OBJECT_HASH_SEED = 0L;

    /** LZ4's worst-case expansion bound: a reader rejects raw sizes beyond this multiple of the input. */
    public static final int MAX_LZ4_EXPANSION = 255;

    // ---- replica state (local file next to a replica database) ----
    /** "WSRS": walship replica state. */
    public static final int REPLICA_STATE_MAGIC = 0x57535253;
    /** Flag bit: a segment was being applied when the state was written. */
    public static final int REPLICA_FLAG_APPLYING = 1;
    /**
     * Flag bit: the replica may hold transactions its primary had not stored when they were
     * applied (a stream with applyUnstored): storage must confirm them before they are trusted.
     */
    public static final int REPLICA_FLAG_AHEAD = 2;
    /** Flag bit: transactions applied ahead of storage were being taken back; the file may be torn. */
    public static final int REPLICA_FLAG_ROLLING_BACK = 4;
    public static final int REPLICA_PAGE_COUNT_OFFSET = PAGE_SIZE_OFFSET + Integer.BYTES;
    public static final int REPLICA_TXID_OFFSET = REPLICA_PAGE_COUNT_OFFSET + Integer.BYTES;
    public static final int REPLICA_CHECKSUM_OFFSET = REPLICA_TXID_OFFSET + Long.BYTES;
    public static final int REPLICA_APPLYING_TXID_OFFSET = REPLICA_CHECKSUM_OFFSET + Long.BYTES;
    public static final int REPLICA_APPLYING_LAST_TXID_OFFSET = REPLICA_APPLYING_TXID_OFFSET + Long.BYTES;
    public static final int REPLICA_CHANGE_COUNTER_OFFSET = REPLICA_APPLYING_LAST_TXID_OFFSET + Long.BYTES;
    /** Which of the state file's two slots is newer: the one with the later sequence number. */
    public static final int REPLICA_SEQUENCE_OFFSET = REPLICA_CHANGE_COUNTER_OFFSET + Integer.BYTES;
    public static final int REPLICA_STATE_HEADER_SIZE = REPLICA_SEQUENCE_OFFSET + Integer.BYTES;

    // ---- checkpoint record (local file next to a primary database) ----
    /** "WSCK": walship checkpoint record. */
    public static final int CHECKPOINT_RECORD_MAGIC = 0x5753434B;
    /** Flag bit: walship may have let SQLite write the database file since this header's state. */
    public static final int CHECKPOINT_FLAG_DIRTY = 1;
    /** Flag bit: the folded WAL salts name the WAL generation whose frames are in the file. */
    public static final int CHECKPOINT_FLAG_FOLDED_SALTS = 2;
    /** Flag bit: the folded frame count is set, and the header ends after it (else before it, as walship wrote it first). */
    public static final int CHECKPOINT_FLAG_FOLDED_FRAMES = 4;
    public static final int CHECKPOINT_PAGE_COUNT_OFFSET = PAGE_SIZE_OFFSET + Integer.BYTES;
    public static final int CHECKPOINT_TXID_OFFSET = CHECKPOINT_PAGE_COUNT_OFFSET + Integer.BYTES;
    public static final int CHECKPOINT_CHECKSUM_OFFSET = CHECKPOINT_TXID_OFFSET + Long.BYTES;
    public static final int CHECKPOINT_APPLYING_LAST_TXID_OFFSET = CHECKPOINT_CHECKSUM_OFFSET + Long.BYTES;
    public static final int CHECKPOINT_FILE_SIZE_OFFSET = CHECKPOINT_APPLYING_LAST_TXID_OFFSET + Long.BYTES;
    public static final int CHECKPOINT_FILE_MTIME_NANOS_OFFSET = CHECKPOINT_FILE_SIZE_OFFSET + Long.BYTES;
    public static final int CHECKPOINT_FILE_CTIME_NANOS_OFFSET = CHECKPOINT_FILE_MTIME_NANOS_OFFSET + Long.BYTES;
    public static final int CHECKPOINT_FILE_INODE_OFFSET = CHECKPOINT_FILE_CTIME_NANOS_OFFSET + Long.BYTES;
    /** Salts of the WAL generation the last checkpoint folded: a WAL still carrying them is stale. */
    public static final int CHECKPOINT_FOLDED_SALT1_OFFSET = CHECKPOINT_FILE_INODE_OFFSET + Long.BYTES;
    public static final int CHECKPOINT_FOLDED_SALT2_OFFSET = CHECKPOINT_FOLDED_SALT1_OFFSET + Integer.BYTES;
    /** Which of the record's two header slots is newer: the one with the later sequence number. */
    public static final int CHECKPOINT_SEQUENCE_OFFSET = CHECKPOINT_FOLDED_SALT2_OFFSET + Integer.BYTES;
    /** Frames of the folded generation that the file holds: a WAL of that generation holds new commits only after them. */
    public static final int CHECKPOINT_FOLDED_FRAMES_OFFSET = CHECKPOINT_SEQUENCE_OFFSET + Integer.BYTES;
    /** The header without the folded frame count (flag bit 2 clear): records written before it existed. */
    public static final int CHECKPOINT_HEADER_SIZE_NO_FOLDED_FRAMES = CHECKPOINT_FOLDED_FRAMES_OFFSET;
    public static final int CHECKPOINT_HEADER_SIZE = CHECKPOINT_FOLDED_FRAMES_OFFSET + Integer.BYTES;
    /** Header slot i starts at i times this: each slot in its own 4 KiB page, so one torn write spoils one slot. */
    public static final int CHECKPOINT_SLOT_STRIDE = 4096;
    /** Where the page hashes start: one u64 per page, page 1 first. */
    public static final int CHECKPOINT_PAGE_HASHES_OFFSET = 2 * CHECKPOINT_SLOT_STRIDE;

    // ---- encrypted envelope (around any stored object, when encryption is configured) ----
    /** "WSEC": a walship object sealed with AES-256-GCM; what it holds is any of the objects above. */
    public static final int ENVELOPE_MAGIC = 0x57534543;
    public static final int ENVELOPE_VERSION = 1;
    public static final int ENVELOPE_MAGIC_OFFSET = 0;
    public static final int ENVELOPE_VERSION_OFFSET = ENVELOPE_MAGIC_OFFSET + Integer.BYTES;
    public static final int ENVELOPE_FLAGS_OFFSET = ENVELOPE_VERSION_OFFSET + Short.BYTES;
    /** Plaintext bytes per chunk; every chunk but the last holds exactly this many. */
    public static final int ENVELOPE_CHUNK_SIZE_OFFSET = ENVELOPE_FLAGS_OFFSET + Short.BYTES;
    public static final int ENVELOPE_KEY_ID_LENGTH_OFFSET = ENVELOPE_CHUNK_SIZE_OFFSET + Integer.BYTES;
    /** The key id, UTF-8, zero-padded to ENVELOPE_KEY_ID_BYTES. */
    public static final int ENVELOPE_KEY_ID_OFFSET = ENVELOPE_KEY_ID_LENGTH_OFFSET + Byte.BYTES;
    public static final int ENVELOPE_KEY_ID_BYTES = 64;
    /** Random per object: the HKDF salt of the object's own key. */
    public static final int ENVELOPE_SALT_OFFSET = ENVELOPE_KEY_ID_OFFSET + ENVELOPE_KEY_ID_BYTES;
    public static final int ENVELOPE_SALT_BYTES = 32;
    /** Random per object: the first 7 bytes of every chunk's 12-byte GCM nonce. */
    public static final int ENVELOPE_NONCE_PREFIX_OFFSET = ENVELOPE_SALT_OFFSET + ENVELOPE_SALT_BYTES;
    public static final int ENVELOPE_NONCE_PREFIX_BYTES = 7;
    public static final int ENVELOPE_HEADER_SIZE = ENVELOPE_NONCE_PREFIX_OFFSET + ENVELOPE_NONCE_PREFIX_BYTES;
    /** The chunk size this build writes: 64 KiB of plaintext. */
    public static final int ENVELOPE_CHUNK_SIZE = 64 << 10;
    /** GCM tag after each chunk's ciphertext. */
    public static final int ENVELOPE_TAG_BYTES = 16;
    /** HKDF-SHA256 info of an object's key: this, then the object's storage key in UTF-8. */
    public static final String ENVELOPE_KEY_INFO = "walship envelope 1 ";

    // ---- stream frame (a primary's live stream over HTTP; nothing stored) ----
    /** "WSTM": walship stream frame. */
    public static final int STREAM_FRAME_MAGIC = 0x5753544D;
    public static final int STREAM_MAGIC_OFFSET = 0;
    public static final int STREAM_KIND_OFFSET = STREAM_MAGIC_OFFSET + Integer.BYTES;
    public static final int STREAM_STORED_TXID_OFFSET = STREAM_KIND_OFFSET + Byte.BYTES;
    public static final int STREAM_LENGTH_OFFSET = STREAM_STORED_TXID_OFFSET + Long.BYTES;
    /** CRC32C of the frame header's bytes before it. */
    public static final int STREAM_HEADER_CRC_OFFSET = STREAM_LENGTH_OFFSET + Integer.BYTES;
    public static final int STREAM_FRAME_HEADER_SIZE = STREAM_HEADER_CRC_OFFSET + Integer.BYTES;
    /** Frame kind: the payload is a segment (this format's layout) of consecutive transactions. */
    public static final byte STREAM_KIND_SEGMENT = 1;
    /** Frame kind: no payload; says the stored txid (sent when it moves, and as a heartbeat). */
    public static final byte STREAM_KIND_STORED = 2;
    /** Frame kind: the stream ends; the payload is the reason, UTF-8. */
    public static final byte STREAM_KIND_END = 3;
    /** The largest payload a reader accepts. */
    public static final int STREAM_MAX_PAYLOAD = 64 << 20;
    /** "WSHL": what a stream client sends first. */
    public static final int STREAM_HELLO_MAGIC = 0x5753484C;
    public static final short STREAM_VERSION = 1;
    public static final int STREAM_HELLO_MAGIC_OFFSET = 0;
    public static final int STREAM_HELLO_VERSION_OFFSET = STREAM_HELLO_MAGIC_OFFSET + Integer.BYTES;
    public static final int STREAM_HELLO_FROM_OFFSET = STREAM_HELLO_VERSION_OFFSET + Short.BYTES;
    public static final int STREAM_HELLO_TOKEN_LENGTH_OFFSET = STREAM_HELLO_FROM_OFFSET + Long.BYTES;
    public static final int STREAM_HELLO_SIZE = STREAM_HELLO_TOKEN_LENGTH_OFFSET + Short.BYTES;
    /** The longest token a server reads. */
    public static final int STREAM_MAX_TOKEN_BYTES = 4096;

    public static final int MIN_PAGE_SIZE = 512;
    public static final int MAX_PAGE_SIZE = 65536;

    /** True for the page sizes SQLite allows: powers of two from 512 to 65536. */
    public static boolean isValidPageSize(int pageSize) {
        return pageSize >= MIN_PAGE_SIZE && pageSize <= MAX_PAGE_SIZE && Integer.bitCount(pageSize) == 1;
    }
}
