package dev.attune.core.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Checks the 16-bit conversions against a reference written here from the format definitions: every positive
 * 16-bit pattern decoded with doubles, and rounding done by searching that sorted table for the nearest value
 * (ties to the even pattern, overflow past the largest finite value to infinity).
 */
class FloatFormatsTest {

    /** Positive values of a 16-bit format by bit pattern; the last slot is where infinity sits for rounding. */
    private static double[] positiveTable(int exponentBits, int mantissaBits, int bias) {
        int infinity = ((1 << exponentBits) - 1) << mantissaBits;
        double[] values = new double[infinity + 1];
        for (int bits = 0; bits < infinity; bits++) {
            int e = bits >>> mantissaBits;
            int m = bits & ((1 << mantissaBits) - 1);
            values[bits] = e == 0
                    ? m * Math.pow(2, 1 - bias - mantissaBits)
                    : (1 + m / Math.pow(2, mantissaBits)) * Math.pow(2, e - bias);
        }
        // IEEE rounds to infinity from max + ulp/2 on, i.e. as if infinity were the next value, max + ulp.
        values[infinity] = 2 * values[infinity - 1] - values[infinity - 2];
        return values;
    }

    private static final double[] HALF = positiveTable(5, 10, 15);
    private static final double[] BF16 = positiveTable(8, 7, 127);

    private static int referenceRound(double[] table, float f) {
        int sign = Float.floatToRawIntBits(f) < 0 ? 0x8000 : 0;
        double x = Math.abs((double) f);
        int i = Arrays.binarySearch(table, x);
        if (i >= 0) {
            return sign | i;
        }
        int hi = -i - 1;
        if (hi >= table.length) {
            return sign | (table.length - 1); // beyond even the infinity slot
        }
        int lo = hi - 1;
        double dLo = x - table[lo];
        double dHi = table[hi] - x;
        int pick = dLo < dHi ? lo : dHi < dLo ? hi : ((lo & 1) == 0 ? lo : hi);
        return sign | pick;
    }

    @Test
    void halfDecodesEveryPatternExactly() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float f = FloatFormats.halfToFloat((short) bits);
            int magnitude = bits & 0x7fff;
            boolean negative = (bits & 0x8000) != 0;
            if (magnitude > 0x7c00) {
                assertThat(f).as("pattern %04x", bits).isNaN();
            } else if (magnitude == 0x7c00) {
                assertThat(f).isEqualTo(negative ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY);
            } else {
                double expected = negative ? -HALF[magnitude] : HALF[magnitude];
                assertThat((double) f).as("pattern %04x", bits).isEqualTo(expected);
                assertThat(Float.floatToRawIntBits(f) < 0).as("sign of %04x", bits).isEqualTo(negative);
            }
        }
        // Known constants from the IEEE 754 definition.
        assertThat(FloatFormats.halfToFloat((short) 0x3c00)).isEqualTo(1f);
        assertThat(FloatFormats.halfToFloat((short) 0xc000)).isEqualTo(-2f);
        assertThat(FloatFormats.halfToFloat((short) 0x7bff)).isEqualTo(65504f);
        assertThat(FloatFormats.halfToFloat((short) 0x0001)).isEqualTo(5.9604645e-8f);
        assertThat(FloatFormats.halfToFloat((short) 0x0400)).isEqualTo(6.1035156e-5f);
    }

    @Test
    void halfRoundTripsEveryPatternAndKeepsNaN() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float f = FloatFormats.halfToFloat((short) bits);
            short back = FloatFormats.floatToHalf(f);
            if (Float.isNaN(f)) {
                assertThat(FloatFormats.halfToFloat(back)).as("NaN pattern %04x", bits).isNaN();
            } else {
                assertThat(back & 0xffff).as("pattern %04x", bits).isEqualTo(bits);
            }
        }
        assertThat(FloatFormats.halfToFloat(FloatFormats.floatToHalf(Float.NaN))).isNaN();
        assertThat(FloatFormats.halfToFloat(FloatFormats.floatToHalf(Float.intBitsToFloat(0x7f800001)))).isNaN();
    }

    @Test
    void halfRoundsToNearestEvenLikeTheReference() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 400_000; i++) {
            // Exponents around the half range: subnormals, normals, overflow, underflow.
            int exponent = 95 + random.nextInt(60);
            int bits = (random.nextInt(2) << 31) | (exponent << 23) | random.nextInt(1 << 23);
            float f = Float.intBitsToFloat(bits);
            assertThat(FloatFormats.floatToHalf(f) & 0xffff).as("float %s", f)
                    .isEqualTo(referenceRound(HALF, f));
        }
        // Exact midpoints between neighbours, where ties-to-even decides.
        for (int bits = 0; bits < 0x7bff; bits++) {
            float mid = (float) ((HALF[bits] + HALF[bits + 1]) / 2);
            assertThat((double) mid).isEqualTo((HALF[bits] + HALF[bits + 1]) / 2); // representable
            int expected = (bits & 1) == 0 ? bits : bits + 1;
            assertThat(FloatFormats.floatToHalf(mid) & 0xffff).as("midpoint after %04x", bits).isEqualTo(expected);
            assertThat(FloatFormats.floatToHalf(-mid) & 0xffff).isEqualTo(expected | 0x8000);
        }
        assertThat(FloatFormats.floatToHalf(65519.996f) & 0xffff).isEqualTo(0x7bff);
        assertThat(FloatFormats.floatToHalf(65520f) & 0xffff).isEqualTo(0x7c00);
        assertThat(FloatFormats.floatToHalf(Float.MAX_VALUE) & 0xffff).isEqualTo(0x7c00);
        assertThat(FloatFormats.floatToHalf(Float.NEGATIVE_INFINITY) & 0xffff).isEqualTo(0xfc00);
        assertThat(FloatFormats.floatToHalf(0x1p-25f) & 0xffff).isEqualTo(0);          // tie to even zero
        assertThat(FloatFormats.floatToHalf(Math.nextUp(0x1p-25f)) & 0xffff).isEqualTo(1);
        assertThat(FloatFormats.floatToHalf(-0f) & 0xffff).isEqualTo(0x8000);
        assertThat(FloatFormats.floatToHalf(Float.MIN_VALUE) & 0xffff).isEqualTo(0);
    }

    @Test
    void bfloat16MatchesTheReferenceBothWays() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float f = FloatFormats.bfloat16ToFloat((short) bits);
            int magnitude = bits & 0x7fff;
            if (magnitude > 0x7f80) {
                assertThat(f).isNaN();
                assertThat(FloatFormats.bfloat16ToFloat(FloatFormats.floatToBfloat16(f))).isNaN();
            } else {
                if (magnitude < 0x7f80) {
                    assertThat(Math.abs((double) f)).as("pattern %04x", bits).isEqualTo(BF16[magnitude]);
                }
                assertThat(FloatFormats.floatToBfloat16(f) & 0xffff).as("pattern %04x", bits).isEqualTo(bits);
            }
        }
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 400_000; i++) {
            int bits = (random.nextInt() & 0x807fffff) | (random.nextInt(0xff) << 23); // any finite float
            float f = Float.intBitsToFloat(bits);
            assertThat(FloatFormats.floatToBfloat16(f) & 0xffff).as("float %s", f).isEqualTo(referenceRound(BF16, f));
        }
        assertThat(FloatFormats.bfloat16ToFloat((short) 0x3f80)).isEqualTo(1f);
        assertThat(FloatFormats.bfloat16ToFloat((short) 0x4049)).isEqualTo(3.140625f);
        assertThat(FloatFormats.floatToBfloat16(Float.MAX_VALUE) & 0xffff).isEqualTo(0x7f80);
        assertThat(FloatFormats.bfloat16ToFloat(FloatFormats.floatToBfloat16(Float.NaN))).isNaN();
        assertThat(FloatFormats.bfloat16ToFloat(FloatFormats.floatToBfloat16(Float.intBitsToFloat(0x7f800001))))
                .isNaN();
    }
}
