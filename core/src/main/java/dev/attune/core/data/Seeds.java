package dev.attune.core.data;

/**
 * Counter-based randomness: every random choice of a run (which window a row reads, which dropout mask a
 * micro-batch uses, each epoch's shuffle) is a hash of the run's seed and the choice's coordinates. Nothing
 * carries state from one step to the next, so a resumed run makes exactly the same choices.
 */
public final class Seeds {

    private Seeds() {
    }

    /** SplitMix64's finaliser: a bijective, well-mixing 64-bit hash. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A hash of the seed and any number of coordinates. */
    public static long of(long seed, long... coordinates) {
        long h = mix(seed + 0x9e3779b97f4a7c15L);
        for (long c : coordinates) {
            h = mix(h ^ (c * 0x9e3779b97f4a7c15L + 0x632be59bd9b4e019L));
        }
        return h;
    }

    /** A uniform integer in {@code [0, bound)} from a hash. */
    public static long below(long hash, long bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        return Math.floorMod(hash, bound); // the bias, at most bound / 2^64, is negligible
    }
}
