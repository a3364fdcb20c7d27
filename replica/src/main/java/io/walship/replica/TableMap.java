package io.walship.replica;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which table each page of a replica file belongs to, kept up to date batch by batch, so that a
 * batch can be told which tables it changed. Apply thread only.
 */
final class TableMap {
    /*
     * Built whole from SQLite's dbstat virtual table (every b-tree and overflow page, named by its
     * table or index; an index counts as its table) and the freelist. After a batch, the pages it
     * wrote are named twice: by the map as it was (a table that lost a page is named through the
     * parent that lost the pointer) and as it is now. In between, the map follows the structure
     * from the pages written, not from the whole file: a page that joins a tree (a split, a new
     * overflow chain, a page taken from the freelist) is always pointed to by a page written in the
     * same transaction, so walking the child pointers and overflow chains of the b-tree pages the
     * batch wrote, from owners already known, names every page that moved. Pages are re-walked
     * until nothing changes, so the order the batch wrote them in does not matter. When page 1
     * changed, the freelist is walked too (its trunks are few). A schema change (the schema cookie
     * at offset 40 moved: DDL, VACUUM) rebuilds the map and adds every table whose sqlite_schema
     * row changed. A page written that no walk reaches (not free, not a pointer-map page) means the
     * map lost track: it is rebuilt, counted in rebuilds(). Page 1 itself never names a table: SQLite
     * writes it whenever the database grows or the freelist changes (its header), so naming
     * sqlite_schema for it would name the schema in most batches; sqlite_schema is named for schema
     * changes instead. Formats: [1] sections 1.3, 1.5, 1.6.
     *
     * [1] https://www.sqlite.org/fileformat2.html
     */
    private static final int FREE = -1;
    private static final int HEADER_SCHEMA_COOKIE = 40;
    private static final int HEADER_FREELIST_TRUNK = 32;
    private static final int HEADER_RESERVED_BYTES = 20;
    private static final int HEADER_LARGEST_ROOT = 52;
    private static final int PAGE1_BTREE_HEADER = 100;
    private static final int INDEX_INTERIOR = 2;
    private static final int TABLE_INTERIOR = 5;
    private static final int INDEX_LEAF = 10;
    private static final int TABLE_LEAF = 13;
    private static final String SCHEMA_TABLE = "sqlite_schema";

    /** One row of sqlite_schema, compared whole to find what DDL changed. */
    private record SchemaRow(String type, String table, int rootPage, String sql) {
    }

    private final ReplicaFile file;
    private final Connection connection;
    private final int pageSize;
    private final ByteBuffer page;
    /** Per page: the id of its table (an index into names), 0 unknown, FREE on the freelist. */
    private int[] owner = new int[1];
    private final BitSet overflow = new BitSet();
    private final List<String> names = new ArrayList<>(List.of(""));
    private final Map<String, Integer> ids = new HashMap<>();
    private Map<String, SchemaRow> schema = Map.of();
    private int cookie;
    private int usable;
    private boolean autoVacuum;
    private long rebuilds;
    /** The last update failed half way: the next one rebuilds first and names every table. */
    private boolean invalid;

    /** @param connection reads sqlite_schema and dbstat; the replica's own, never lent to readers */
    TableMap(ReplicaFile file, Connection connection) throws IOException, SQLException {
        this.file = file;
        this.connection = connection;
        this.pageSize = file.pageSize();
        this.page = ByteBuffer.allocate(pageSize);
        build();
    }

    /** How often the map was built whole since it was created, the first build included. */
    long rebuilds() {
        return rebuilds;
    }

    /** After a failed update: the next one rebuilds the map and names every table. */
    void invalidate() {
        invalid = true;
    }

    /**
     * The tables whose pages {@code applied} wrote, with DDL's tables; updates the map to the file's state after it.
     */
    Set<String> changedBy(ReplicaFile.Applied applied) throws IOException, SQLException {
        if (invalid) {
            build();
            invalid = false;
            return allTables();
        }
        int[] pages = applied.pages();
        Set<String> tables = new TreeSet<>();
        name(pages, tables);
        readPage(1);
        if (page.getInt(HEADER_SCHEMA_COOKIE) != cookie) {
            Map<String, SchemaRow> before = schema;
            build();
            name(pages, tables);
            tables.add(SCHEMA_TABLE);
            Set<String> rows = new HashSet<>(before.keySet());
            rows.addAll(schema.keySet());
            for (String row : rows) {
                if (!Objects.equals(before.get(row), schema.get(row))) {
                    tables.add((schema.containsKey(row) ? schema : before).get(row).table());
                }
            }
            return tables;
        }
        int pageCount = applied.pageCount();
        if (owner.length != pageCount + 1) { // only when the file changed size: the map is O(database)
            owner = Arrays.copyOf(owner, pageCount + 1);
            if (overflow.length() > pageCount + 1) {
                overflow.clear(pageCount + 1, overflow.length());
            }
        }
        Written written = new Written(pages);
        if (written.has(1)) {
            markFreelist(pageCount);
        }
        if (!follow(pages, written, pageCount)) {
            build();
        } else {
            for (int pgno : pages) {
                if (owner[pgno] == 0 && !structural(pgno)) {
                    build();
                    break;
                }
            }
        }
        name(pages, tables);
        return tables;
    }

    /** Every table the schema names: what a batch changed when the map cannot say. */
    Set<String> allTables() {
        Set<String> all = new TreeSet<>();
        schema.values().forEach(row -> all.add(row.table()));
        all.add(SCHEMA_TABLE);
        return all;
    }

    /** Adds the tables owning {@code pages}; page 1 is skipped (see the class note). */
    private void name(int[] pages, Set<String> tables) {
        for (int pgno : pages) {
            if (pgno == 1) {
                continue;
            }
            int id = pgno < owner.length ? owner[pgno] : 0;
            if (id > 0) {
                tables.add(names.get(id));
            }
        }
    }

    /** The whole map from dbstat and the freelist; the schema from sqlite_schema. */
    private void build() throws IOException, SQLException {
        readPage(1);
        cookie = page.getInt(HEADER_SCHEMA_COOKIE);
        usable = pageSize - (page.get(HEADER_RESERVED_BYTES) & 0xff);
        autoVacuum = page.getInt(HEADER_LARGEST_ROOT) != 0;
        Map<String, SchemaRow> rows = new HashMap<>();
        try (Statement st = connection.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema")) {
                while (rs.next()) {
                    rows.put(rs.getString(2), new SchemaRow(rs.getString(1), rs.getString(3), rs.getInt(4),
                            rs.getString(5)));
                }
            }
            schema = rows;
            int pageCount;
            try (ResultSet rs = st.executeQuery("PRAGMA page_count")) {
                pageCount = rs.next() ? rs.getInt(1) : 0;
            }
            owner = new int[pageCount + 1];
            overflow.clear();
            try (ResultSet rs = st.executeQuery("SELECT name, pageno, pagetype FROM dbstat")) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    int pgno = rs.getInt(2);
                    if (pgno > pageCount) {
                        continue;
                    }
                    SchemaRow row = rows.get(name);
                    owner[pgno] = id(row == null ? name : row.table());
                    if ("overflow".equals(rs.getString(3))) {
                        overflow.set(pgno);
                    }
                }
            }
            markFreelist(pageCount);
        }
        rebuilds++;
    }

    private int id(String table) {
        return ids.computeIfAbsent(table, t -> {
            names.add(t);
            return names.size() - 1;
        });
    }

    /** Marks every freelist page FREE, trunks and leaves. */
    private void markFreelist(int pageCount) throws IOException {
        readPage(1);
        int trunk = page.getInt(HEADER_FREELIST_TRUNK);
        for (int steps = 0; trunk > 0 && trunk <= pageCount && steps <= pageCount; steps++) {
            free(trunk);
            readPage(trunk);
            int next = page.getInt(0);
            int leaves = page.getInt(4);
            for (int i = 0; i < leaves && 8 + 4 * i + 4 <= usable; i++) {
                int leaf = page.getInt(8 + 4 * i);
                if (leaf > 0 && leaf <= pageCount) {
                    free(leaf);
                }
            }
            trunk = next;
        }
    }

    private void free(int pgno) {
        owner[pgno] = FREE;
        overflow.clear(pgno);
    }

    /**
     * Walks the b-tree pages written, from known owners, naming their children and overflow
     * chains; again for every written page whose owner changed. False when it would not settle
     * (a file the map misreads): the caller rebuilds.
     */
    private boolean follow(int[] pages, Written written, int pageCount) throws IOException {
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int pgno : pages) {
            queue.add(pgno);
        }
        long budget = 8L * pages.length + 64;
        while (!queue.isEmpty()) {
            if (--budget < 0) {
                return false;
            }
            int pgno = queue.poll();
            int id = owner[pgno];
            if (id <= 0 || overflow.get(pgno)) {
                continue;
            }
            readPage(pgno);
            int header = pgno == 1 ? PAGE1_BTREE_HEADER : 0;
            int type = page.get(header) & 0xff;
            if (type != INDEX_INTERIOR && type != TABLE_INTERIOR && type != INDEX_LEAF && type != TABLE_LEAF) {
                continue;
            }
            boolean interior = type == INDEX_INTERIOR || type == TABLE_INTERIOR;
            int cells = page.getShort(header + 3) & 0xffff;
            int pointers = header + (interior ? 12 : 8);
            List<Integer> chains = new ArrayList<>();
            if (interior) {
                adopt(page.getInt(header + 8), id, written, queue, pageCount);
            }
            for (int i = 0; i < cells; i++) {
                int cell = page.getShort(pointers + 2 * i) & 0xffff;
                if (cell + 4 > pageSize) {
                    return false;
                }
                if (interior) {
                    adopt(page.getInt(cell), id, written, queue, pageCount);
                }
                if (type == TABLE_INTERIOR) {
                    continue;
                }
                int at = cell + (interior ? 4 : 0);
                long payload = varint(at);
                at += varintLength(at);
                if (type == TABLE_LEAF) {
                    at += varintLength(at); // the rowid
                }
                long local = localPayload(payload, type == TABLE_LEAF);
                if (payload > local) {
                    if (at + local + 4 > pageSize) {
                        return false;
                    }
                    chains.add(page.getInt((int) (at + local)));
                }
            }
            for (int first : chains) { // the page buffer is reused below
                walkOverflow(first, id, written, pageCount);
            }
        }
        return true;
    }

    private void adopt(int child, int id, Written written, ArrayDeque<Integer> queue, int pageCount) {
        if (child < 1 || child > pageCount) {
            return;
        }
        overflow.clear(child);
        if (owner[child] != id) {
            owner[child] = id;
            if (written.has(child)) {
                queue.add(child);
            }
        }
    }

    /** Names an overflow chain's pages, as far as they are new to {@code id} or were written. */
    private void walkOverflow(int first, int id, Written written, int pageCount) throws IOException {
        ByteBuffer next = ByteBuffer.allocate(4);
        int pgno = first;
        for (int steps = 0; pgno >= 1 && pgno <= pageCount && steps <= pageCount
                && (written.has(pgno) || owner[pgno] != id || !overflow.get(pgno)); steps++) {
            owner[pgno] = id;
            overflow.set(pgno);
            next.clear();
            file.readPage(pgno, next);
            pgno = next.getInt(0);
        }
    }

    /** The pages a batch wrote, ascending: a lookup costs O(log batch), nothing O(database). */
    private record Written(int[] pages) {
        boolean has(int pgno) {
            return Arrays.binarySearch(pages, pgno) >= 0;
        }
    }

    /** Pages no table owns and no walk names: pointer-map pages (auto-vacuum) and the lock-byte page. */
    private boolean structural(int pgno) {
        if (pgno == (1 << 30) / pageSize + 1) {
            return true;
        }
        return autoVacuum && pgno >= 2 && (pgno - 2) % (usable / 5 + 1) == 0;
    }

    /** Bytes of a payload kept on the b-tree page ([1] 1.6). */
    private long localPayload(long payload, boolean tableLeaf) {
        long max = tableLeaf ? usable - 35 : (usable - 12) * 64L / 255 - 23;
        if (payload <= max) {
            return payload;
        }
        long min = (usable - 12) * 32L / 255 - 23;
        long k = min + (payload - min) % (usable - 4);
        return k <= max ? k : min;
    }

    private long varint(int at) {
        long value = 0;
        for (int i = 0; i < 8; i++) {
            int b = page.get(at + i) & 0xff;
            value = (value << 7) | (b & 0x7f);
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        return (value << 8) | (page.get(at + 8) & 0xff);
    }

    private int varintLength(int at) {
        for (int i = 0; i < 8; i++) {
            if ((page.get(at + i) & 0x80) == 0) {
                return i + 1;
            }
        }
        return 9;
    }

    private void readPage(int pgno) throws IOException {
        page.clear();
        file.readPage(pgno, page);
        page.clear();
    }
}
