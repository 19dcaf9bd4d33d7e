package dev.attune.prompting.fewshot;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;

/**
 * Chooses the k demonstrations for each query from a pool of solved examples: {@link #firstN()}, seeded
 * {@link #random(long)}, or {@link #balanced(long)} across labels. The query itself is never chosen: the caller
 * says which pool entries are excluded for it (its own index when the pool is the evaluation set).
 *
 * <p>Random draws depend only on the seed and the query's index, never on the order in which queries are
 * processed or how they are batched, so a run can be repeated and any single item reproduced alone.
 */
public final class FewShotSampler {

    /** How demonstrations are chosen. */
    public enum Strategy {
        /** The first k pool entries that are not excluded, in pool order. */
        FIRST_N,
        /** k distinct entries drawn uniformly, seeded per query. */
        RANDOM,
        /** As even a share per label as possible (earlier labels take the remainder), drawn at random, shuffled. */
        BALANCED
    }

    private final Strategy strategy;
    private final long seed;

    private FewShotSampler(Strategy strategy, long seed) {
        this.strategy = Objects.requireNonNull(strategy, "strategy");
        this.seed = seed;
    }

    public static FewShotSampler firstN() {
        return new FewShotSampler(Strategy.FIRST_N, 0);
    }

    public static FewShotSampler random(long seed) {
        return new FewShotSampler(Strategy.RANDOM, seed);
    }

    public static FewShotSampler balanced(long seed) {
        return new FewShotSampler(Strategy.BALANCED, seed);
    }

    public static FewShotSampler of(Strategy strategy, long seed) {
        return new FewShotSampler(strategy, seed);
    }

    public Strategy strategy() {
        return strategy;
    }

    public long seed() {
        return seed;
    }

    /**
     * The pool indices of the demonstrations for one query.
     *
     * @param k        how many
     * @param query    the query's index (seeds the random strategies)
     * @param poolSize entries in the pool
     * @param excluded pool entries that must not be chosen for this query (at least the query itself)
     * @param labelOf  the label of a pool entry; needed by {@link Strategy#BALANCED} only (may be null otherwise)
     * @throws IllegalArgumentException when fewer than k entries are allowed
     */
    public int[] select(int k, int query, int poolSize, IntPredicate excluded, IntFunction<String> labelOf) {
        if (k < 0) {
            throw new IllegalArgumentException("number of demonstrations must be >= 0, got " + k);
        }
        if (k == 0) {
            return new int[0];
        }
        List<Integer> allowed = new ArrayList<>();
        for (int i = 0; i < poolSize; i++) {
            if (!excluded.test(i)) {
                allowed.add(i);
            }
        }
        if (allowed.size() < k) {
            throw new IllegalArgumentException("asked for " + k + " demonstrations but the pool has only "
                    + allowed.size() + " entries besides the query (item " + query + ")");
        }
        SplittableRandom rng = new SplittableRandom(mix(seed, query));
        return switch (strategy) {
            case FIRST_N -> allowed.subList(0, k).stream().mapToInt(Integer::intValue).toArray();
            case RANDOM -> draw(allowed, k, rng);
            case BALANCED -> balancedDraw(allowed, k, rng, Objects.requireNonNull(labelOf,
                    "balanced few-shot selection needs labels"));
        };
    }

    private static int[] draw(List<Integer> candidates, int k, SplittableRandom rng) {
        List<Integer> c = new ArrayList<>(candidates);
        int[] out = new int[k];
        for (int i = 0; i < k; i++) { // partial Fisher-Yates
            int j = i + rng.nextInt(c.size() - i);
            Integer t = c.get(i);
            c.set(i, c.get(j));
            c.set(j, t);
            out[i] = c.get(i);
        }
        return out;
    }

    private static int[] balancedDraw(List<Integer> allowed, int k, SplittableRandom rng, IntFunction<String> labelOf) {
        Map<String, List<Integer>> byLabel = new LinkedHashMap<>(); // labels in order of first appearance
        for (int i : allowed) {
            byLabel.computeIfAbsent(labelOf.apply(i), l -> new ArrayList<>()).add(i);
        }
        List<List<Integer>> groups = new ArrayList<>();
        for (List<Integer> g : byLabel.values()) {
            int[] shuffled = draw(g, g.size(), rng);
            List<Integer> s = new ArrayList<>();
            for (int v : shuffled) {
                s.add(v);
            }
            groups.add(s);
        }
        // round-robin over labels: shares differ by at most one while every label has entries left
        List<Integer> chosen = new ArrayList<>();
        int[] taken = new int[groups.size()];
        while (chosen.size() < k) {
            for (int g = 0; g < groups.size() && chosen.size() < k; g++) {
                if (taken[g] < groups.get(g).size()) {
                    chosen.add(groups.get(g).get(taken[g]++));
                }
            }
        }
        // shuffled so that the last demonstration's label carries no pattern
        return draw(chosen, chosen.size(), rng);
    }

    private static long mix(long seed, int query) {
        long z = seed * 0x9E3779B97F4A7C15L + query + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return strategy == Strategy.FIRST_N ? "first_n" : strategy.name().toLowerCase() + "(seed=" + seed + ")";
    }
}
