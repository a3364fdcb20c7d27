package io.walship.internal.capture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What a platform's loader reads of a shared library, parsed from its bytes: the object format
 * and machine, the symbols it exports, and what it needs from elsewhere (libraries, symbols,
 * imports). Enough to prove a WAL hook built for a platform this machine cannot run is
 * well-formed for its loader; not a validator of everything a loader checks.
 */
record NativeObjectFile(String format, String machine, List<String> exported, List<String> needs,
                        boolean codeSignature) {

    static NativeObjectFile parse(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length > 64 && b.getInt(0) == 0x464c457f) {
            return elf(b);
        }
        if (bytes.length > 64 && b.getShort(0) == 0x5a4d) {
            return pe(b);
        }
        if (bytes.length > 32 && b.getInt(0) == 0xfeedfacf) {
            return machO(b);
        }
        throw new IllegalArgumentException("not a 64-bit little-endian ELF, PE or Mach-O file");
    }

    /** ELF64: the dynamic symbol table (defined, global, default visibility) and DT_NEEDED entries. */
    private static NativeObjectFile elf(ByteBuffer b) {
        check(b.get(4) == 2 && b.get(5) == 1, "ELF is not 64-bit little-endian");
        check(b.getShort(16) == 3, "ELF type " + b.getShort(16) + " is not a shared object (3)");
        int machine = b.getShort(18) & 0xffff;
        long shoff = b.getLong(0x28);
        int shentsize = b.getShort(0x3a) & 0xffff;
        int shnum = b.getShort(0x3c) & 0xffff;
        List<String> exported = new ArrayList<>();
        List<String> needs = new ArrayList<>();
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            int type = b.getInt(sh + 4);
            int offset = (int) b.getLong(sh + 0x18);
            int size = (int) b.getLong(sh + 0x20);
            int link = b.getInt(sh + 0x28);
            int strtab = (int) b.getLong((int) (shoff + (long) link * shentsize) + 0x18);
            if (type == 11) { // SHT_DYNSYM
                for (int sym = offset + 24; sym < offset + size; sym += 24) {
                    String name = cString(b, strtab + b.getInt(sym));
                    int info = b.get(sym + 4);
                    boolean defined = b.getShort(sym + 6) != 0;
                    if (!defined && !name.isEmpty()) {
                        needs.add("symbol " + name);
                    } else if (defined && (info >> 4) == 1 && (b.get(sym + 5) & 3) == 0) {
                        exported.add(name);
                    }
                }
            } else if (type == 6) { // SHT_DYNAMIC
                for (int d = offset; d < offset + size; d += 16) {
                    if (b.getLong(d) == 1) { // DT_NEEDED
                        needs.add("library " + cString(b, strtab + (int) b.getLong(d + 8)));
                    }
                }
            }
        }
        String name = machine == 62 ? "x86_64" : machine == 183 ? "aarch64" : "elf-machine-" + machine;
        return new NativeObjectFile("ELF", name, exported, needs, false);
    }

    /** PE32+: a DLL's export directory names and its import directory. */
    private static NativeObjectFile pe(ByteBuffer b) {
        int pe = b.getInt(0x3c);
        check(b.getInt(pe) == 0x00004550, "no PE signature");
        int coff = pe + 4;
        int machine = b.getShort(coff) & 0xffff;
        int sections = b.getShort(coff + 2) & 0xffff;
        int optionalSize = b.getShort(coff + 16) & 0xffff;
        check((b.getShort(coff + 18) & 0x2000) != 0, "PE file is not a DLL");
        int optional = coff + 20;
        check((b.getShort(optional) & 0xffff) == 0x20b, "PE optional header is not PE32+");
        int directories = b.getInt(optional + 108);
        int sectionTable = optional + optionalSize;
        List<String> exported = new ArrayList<>();
        List<String> needs = new ArrayList<>();
        if (directories > 0 && b.getInt(optional + 112) != 0) {
            int export = rvaToOffset(b, sectionTable, sections, b.getInt(optional + 112));
            int names = b.getInt(export + 24);
            int nameTable = rvaToOffset(b, sectionTable, sections, b.getInt(export + 32));
            for (int i = 0; i < names; i++) {
                exported.add(cString(b, rvaToOffset(b, sectionTable, sections, b.getInt(nameTable + 4 * i))));
            }
        }
        if (directories > 1 && b.getInt(optional + 120) != 0) {
            int imports = rvaToOffset(b, sectionTable, sections, b.getInt(optional + 120));
            for (int d = imports; b.getInt(d + 12) != 0; d += 20) {
                needs.add("library " + cString(b, rvaToOffset(b, sectionTable, sections, b.getInt(d + 12))));
            }
        }
        String name = machine == 0x8664 ? "x86_64" : machine == 0xaa64 ? "aarch64" : "pe-machine-" + machine;
        return new NativeObjectFile("PE", name, exported, needs, false);
    }

    private static int rvaToOffset(ByteBuffer b, int sectionTable, int sections, int rva) {
        for (int i = 0; i < sections; i++) {
            int s = sectionTable + 40 * i;
            int virtualAddress = b.getInt(s + 12);
            int size = Math.max(b.getInt(s + 8), b.getInt(s + 16));
            if (rva >= virtualAddress && rva < virtualAddress + size) {
                return rva - virtualAddress + b.getInt(s + 20);
            }
        }
        throw new IllegalArgumentException("PE address " + Integer.toHexString(rva) + " is in no section");
    }

    /** Mach-O 64: external defined symbols of LC_SYMTAB (C names lose their underscore), LC_LOAD_DYLIBs, a code signature. */
    private static NativeObjectFile machO(ByteBuffer b) {
        int cpu = b.getInt(4);
        check(b.getInt(12) == 6, "Mach-O file type " + b.getInt(12) + " is not a dylib (6)");
        int commands = b.getInt(16);
        List<String> exported = new ArrayList<>();
        List<String> needs = new ArrayList<>();
        boolean signed = false;
        int at = 32;
        for (int i = 0; i < commands; i++) {
            int cmd = b.getInt(at);
            int size = b.getInt(at + 4);
            if (cmd == 0x2) { // LC_SYMTAB
                int symoff = b.getInt(at + 8);
                int nsyms = b.getInt(at + 12);
                int stroff = b.getInt(at + 16);
                for (int s = 0; s < nsyms; s++) {
                    int nlist = symoff + 16 * s;
                    int type = b.get(nlist + 4) & 0xff;
                    String name = cString(b, stroff + b.getInt(nlist));
                    if ((type & 0xe0) != 0) {
                        continue; // debugger entry
                    }
                    if ((type & 0x01) != 0 && (type & 0x0e) == 0x0e) { // N_EXT, N_SECT
                        exported.add(name.startsWith("_") ? name.substring(1) : name);
                    } else if ((type & 0x01) != 0 && (type & 0x0e) == 0) { // N_EXT, N_UNDF
                        needs.add("symbol " + name);
                    }
                }
            } else if (cmd == 0xc || cmd == 0x80000018 || cmd == 0x80000023) { // LC_LOAD_DYLIB, WEAK, REEXPORT
                needs.add("library " + cString(b, at + b.getInt(at + 8)));
            } else if (cmd == 0x1d) { // LC_CODE_SIGNATURE
                signed = true;
            }
            at += size;
        }
        String name = cpu == 0x01000007 ? "x86_64" : cpu == 0x0100000c ? "aarch64" : "macho-cpu-" + cpu;
        return new NativeObjectFile("Mach-O", name, exported, needs, signed);
    }

    private static String cString(ByteBuffer b, int offset) {
        int end = offset;
        while (b.get(end) != 0) {
            end++;
        }
        return new String(b.array(), offset, end - offset, StandardCharsets.US_ASCII);
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
