/* A Vigil plugin in C: `words(text)` counts the words of a string (docs/plugins.md, "C").
 * No libc: the module imports nothing. Build with ./build.sh (Debian: apt-get install clang lld). */

#define EXPORT __attribute__((visibility("default")))

/* The manifest (manifest.json) goes in the custom section `vigil.manifest`. clang 14 turns a variable
 * with a section attribute into data, so the assembler's `.section .custom_section.NAME` is used. */
__asm__(".section .custom_section.vigil.manifest,\"\",@\n.incbin \"manifest.json\"\n.text\n");

extern unsigned char __heap_base;
static unsigned char *result_area;

/* The host calls vigil_alloc once per call, for the arguments, and reads the result before the next
 * call: the arguments go at the start of the heap every time, the result right after them. */
EXPORT unsigned char *vigil_alloc(int len) {
    unsigned char *base = &__heap_base;
    unsigned long end = (unsigned long)base + (unsigned long)len + 64;
    unsigned long size = __builtin_wasm_memory_size(0) * 65536ul;
    if (end > size && __builtin_wasm_memory_grow(0, (end - size + 65535) / 65536) == (unsigned long)-1)
        __builtin_trap();
    result_area = base + len;
    return base;
}

/* Arguments: the JSON array `["text"]`. Result: `{"ok": N}`, as ptr << 32 | len. */
EXPORT long long words(const unsigned char *args, int len) {
    int i = 0, count = 0, in_word = 0;
    while (i < len && args[i] != '"') i++;
    for (i++; i < len && args[i] != '"'; i++) {
        int space = args[i] == ' ';
        if (args[i] == '\\') { /* an escape: \n, \t and \r separate words, \uXXXX is one character */
            i++;
            space = args[i] == 'n' || args[i] == 't' || args[i] == 'r';
            if (args[i] == 'u') i += 4;
        }
        if (space) in_word = 0;
        else if (!in_word) { in_word = 1; count++; }
    }
    unsigned char *out = result_area;
    int n = 0, d = 0;
    char digits[12];
    out[n++] = '{'; out[n++] = '"'; out[n++] = 'o'; out[n++] = 'k'; out[n++] = '"'; out[n++] = ':';
    do { digits[d++] = (char)('0' + count % 10); count /= 10; } while (count);
    while (d) out[n++] = (unsigned char)digits[--d];
    out[n++] = '}';
    return ((long long)(unsigned long)out << 32) | n;
}
