package io.walship.internal.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The fields of SQLite's 100-byte database header (page 1) that walship reads or rewrites
 * (https://www.sqlite.org/fileformat2.html#database_header). Integers are big-endian.
 */
public final class SqliteHeader {
    private SqliteHeader() {
    }

    public static final int SIZE = 100;
    /** u16 page size; the value 1 means 65536. */
    public static final int PAGE_SIZE_OFFSET = 16;
    /** u8 file format write version: 1 rollback journal, 2 WAL. */
    public static final int WRITE_VERSION_OFFSET = 18;
    /** u8 file format read version: 1 rollback journal, 2 WAL. */
    public static final int READ_VERSION_OFFSET = 19;
    public static final byte ROLLBACK_JOURNAL_VERSION = 1;
    /** File format write and read version of a database in WAL mode. */
    public static final byte WAL_VERSION = 2;
    /** u32 file change counter. */
    public static final int CHANGE_COUNTER_OFFSET = 24;
    /** u32 database size in pages, valid when the version-valid-for number equals the change counter. */
    public static final int PAGE_COUNT_OFFSET = 28;
    /** u32 version-valid-for number. */
    public static final int VERSION_VALID_FOR_OFFSET = 92;

    /** The page size of the database file behind {@code channel}. */
    public static int pageSize(FileChannel channel) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(SIZE);
        while (header.hasRemaining()) {
            if (channel.read(header, header.position()) < 0) {
                throw new IOException("not a SQLite database: file is shorter than its " + SIZE + "-byte header");
            }
        }
        int raw = header.getShort(PAGE_SIZE_OFFSET) & 0xffff;
        return raw == 1 ? 65536 : raw;
    }
}
