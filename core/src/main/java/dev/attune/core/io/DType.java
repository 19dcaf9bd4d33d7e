package dev.attune.core.io;

/**
 * The element types a safetensors file can declare, under the names the format uses ({@code "F32"}, ...).
 *
 * <p>Attune reads {@link #F32}, {@link #F16}, {@link #BF16} and {@link #F64} tensors (converting to float) and writes
 * {@link #F32}, {@link #F16} and {@link #BF16}. The other types are recognised, so a file holding them opens and
 * lists them, but their values cannot be read as floats.
 */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2),
    I64(8), I32(4), I16(2), I8(1),
    U64(8), U32(4), U16(2), U8(1),
    BOOL(1), F8_E4M3(1), F8_E5M2(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** True for the types whose values Attune can read as floats. */
    public boolean readable() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** True for the types Attune can write. */
    public boolean writable() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The type with this safetensors name, or {@code null} when the name is not one. */
    static DType parse(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
