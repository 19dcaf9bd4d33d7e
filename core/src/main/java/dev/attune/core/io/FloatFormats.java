package dev.attune.core.io;

/**
 * Conversions between float and the 16-bit formats safetensors files use. Float to 16 bits rounds to nearest, ties
 * to even, overflows to infinity and keeps NaN a NaN; 16 bits to float is exact (subnormals included). The bfloat16
 * pair is public: compressed model weights ({@code dev.attune.core.model.WeightFormat#BF16}) round the same way.
 */
public final class FloatFormats {

    private FloatFormats() {
    }

    /** Every IEEE half decoded once: reading F16 tensors is then one table look-up an element. */
    private static final float[] HALF_TABLE = new float[1 << 16];

    static {
        for (int i = 0; i < HALF_TABLE.length; i++) {
            HALF_TABLE[i] = decodeHalf(i);
        }
    }

    /** IEEE 754 binary16 bits to float. */
    static float halfToFloat(short bits) {
        return HALF_TABLE[bits & 0xffff];
    }

    private static float decodeHalf(int h) {
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0) {
            // Zero or subnormal: mantissa * 2^-24, exact in float.
            float magnitude = mantissa * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        if (exponent == 0x1f) {
            // Infinity, or NaN with its payload moved to the top of the float mantissa.
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        return Float.intBitsToFloat(sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13));
    }

    /** Float to IEEE 754 binary16 bits, rounding to nearest even. */
    static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) {
            if (abs == 0x7f800000) {
                return (short) (sign | 0x7c00);
            }
            // NaN: keep the top payload bits and make sure the result is still a NaN.
            return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff));
        }
        if (abs >= 0x477ff000) {
            // 65520 and above round past the largest half (65504) to infinity.
            return (short) (sign | 0x7c00);
        }
        if (abs >= 0x38800000) {
            // Normal half: re-bias the exponent, round the 13 dropped mantissa bits to nearest even.
            int rebiased = abs - ((127 - 15) << 23);
            return (short) (sign | ((rebiased + 0xfff + ((rebiased >>> 13) & 1)) >>> 13));
        }
        if (abs <= 0x33000000) {
            // At most half the smallest subnormal (2^-25, a tie that goes to the even zero).
            return (short) sign;
        }
        // Subnormal half: value / 2^-24 = mantissa (with the implicit bit) shifted right.
        int exponent = abs >>> 23;
        int mantissa = (abs & 0x7fffff) | 0x800000;
        int shift = 126 - exponent; // 14..24
        int half = mantissa >>> shift;
        int rest = mantissa & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1) != 0)) {
            half++; // may carry into the smallest normal, which is the right encoding
        }
        return (short) (sign | half);
    }

    /** bfloat16 bits to float (exact: bfloat16 is the top half of a float). */
    public static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Float to bfloat16 bits, rounding to nearest even. */
    public static short floatToBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040); // NaN stays a (quiet) NaN
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }
}
