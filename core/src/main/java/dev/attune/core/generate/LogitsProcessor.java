package dev.attune.core.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Changes one row of next-token scores in place, given the tokens of that row so far.
 *
 * <p>Banned tokens get {@code -infinity}. The implementations below are applied in Hugging Face's order:
 * {@link #processors processors} (repetition penalty, no-repeat n-gram, EOS suppression before
 * {@code minNewTokens}) act on every strategy; {@link #warpers warpers} (temperature, top-k, top-p, min-p) only
 * shape the distribution that sampling draws from.
 */
interface LogitsProcessor {

    void process(float[] scores, TokenHistory history);

    /** The processors every strategy applies, in order; {@code eosIds} are the ids that end a sequence. */
    static List<LogitsProcessor> processors(GenerationConfig config, int[] eosIds) {
        List<LogitsProcessor> list = new ArrayList<>();
        if (config.repetitionPenalty() != 1.0) {
            list.add(new RepetitionPenalty((float) config.repetitionPenalty()));
        }
        if (config.noRepeatNgramSize() > 0) {
            list.add(new NoRepeatNgram(config.noRepeatNgramSize()));
        }
        if (config.minNewTokens() > 0 && eosIds.length > 0) {
            list.add(new SuppressEosUntil(config.minNewTokens(), eosIds.clone()));
        }
        return list;
    }

    /** The warpers sampling applies after the processors, in order (empty unless {@code doSample}). */
    static List<LogitsProcessor> warpers(GenerationConfig config) {
        List<LogitsProcessor> list = new ArrayList<>();
        if (!config.doSample()) {
            return list;
        }
        if (config.temperature() != 1.0) {
            list.add(new Temperature((float) config.temperature()));
        }
        if (config.topK() > 0) {
            list.add(new TopK(config.topK()));
        }
        if (config.topP() < 1.0) {
            list.add(new TopP(config.topP()));
        }
        if (config.minP() > 0) {
            list.add(new MinP(config.minP()));
        }
        return list;
    }

    static void applyAll(List<LogitsProcessor> chain, float[] scores, TokenHistory history) {
        for (LogitsProcessor p : chain) {
            p.process(scores, history);
        }
    }

    // ------------------------------------------------------------------------------------------------ processors

    /** Each distinct token of the sequence: positive scores divided by the penalty, negative ones multiplied. */
    record RepetitionPenalty(float penalty) implements LogitsProcessor {
        @Override
        public void process(float[] scores, TokenHistory h) {
            int[] seen = new int[h.length()];
            for (int i = 0; i < h.length(); i++) {
                seen[i] = h.get(i);
            }
            Arrays.sort(seen);
            for (int i = 0; i < seen.length; i++) {
                int t = seen[i];
                if ((i > 0 && t == seen[i - 1]) || t >= scores.length) {
                    continue;
                }
                float s = scores[t];
                scores[t] = s < 0 ? s * penalty : s / penalty;
            }
        }
    }

    /**
     * Bans every token that would complete an n-gram already present in the sequence: the tokens that followed
     * earlier occurrences of the last n-1 tokens.
     */
    record NoRepeatNgram(int n) implements LogitsProcessor {
        @Override
        public void process(float[] scores, TokenHistory h) {
            int len = h.length();
            if (len + 1 < n) {
                return;
            }
            int prefixStart = len - (n - 1); // the current (n-1)-token prefix is h[prefixStart, len)
            for (int start = 0; start + n <= len; start++) {
                boolean same = true;
                for (int j = 0; j < n - 1 && same; j++) {
                    same = h.get(start + j) == h.get(prefixStart + j);
                }
                int banned = h.get(start + n - 1);
                if (same && banned < scores.length) {
                    scores[banned] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }

    /** EOS cannot be chosen before {@code minNewTokens} tokens were generated. */
    record SuppressEosUntil(int minNewTokens, int[] eosIds) implements LogitsProcessor {
        @Override
        public void process(float[] scores, TokenHistory h) {
            if (h.generated() < minNewTokens) {
                for (int id : eosIds) {
                    if (id < scores.length) {
                        scores[id] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
    }

    // --------------------------------------------------------------------------------------------------- warpers

    record Temperature(float temperature) implements LogitsProcessor {
        @Override
        public void process(float[] scores, TokenHistory h) {
            for (int i = 0; i < scores.length; i++) {
                scores[i] /= temperature;
            }
        }
    }

    /** Keeps the k highest scores; ties with the k-th score are kept too, as Hugging Face does. */
    record TopK(int k) implements LogitsProcessor {
        @Override
        public void process(float[] scores, TokenHistory h) {
            if (k >= scores.length) {
                return;
            }
            int[] top = TopN.indices(scores, k);
            float threshold = scores[top[top.length - 1]];
            for (int i = 0; i < scores.length; i++) {
                if (scores[i] < threshold) {
                    scores[i] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }

    /**
     * Keeps the most likely tokens until their probability reaches p: a token survives when the probability of the
     * tokens ranked above it is still below p (so the top token always survives).
     */
    record TopP(double p) implements LogitsProcessor {
        @Override
        public void process(float[] scores, TokenHistory h) {
            // Sort only the finite scores: after top-k that is k entries, not the whole vocabulary.
            int finite = 0;
            for (float s : scores) {
                if (s != Float.NEGATIVE_INFINITY) {
                    finite++;
                }
            }
            long[] keys = new long[finite];
            int n = 0;
            for (int i = 0; i < scores.length; i++) {
                if (scores[i] != Float.NEGATIVE_INFINITY) {
                    keys[n++] = ((long) descendingKey(scores[i]) << 32) | i;
                }
            }
            Arrays.sort(keys); // best first, lower index first on ties
            double max = scores[(int) keys[0]];
            double total = 0;
            for (long key : keys) {
                total += Math.exp(scores[(int) key] - max);
            }
            double before = 0;
            int kept = 0;
            while (kept < keys.length && before < p * total) {
                before += Math.exp(scores[(int) keys[kept]] - max);
                kept++;
            }
            for (int j = kept; j < keys.length; j++) {
                scores[(int) keys[j]] = Float.NEGATIVE_INFINITY;
            }
        }

        /** An int whose ascending order is the float's descending order. */
        private static int descendingKey(float f) {
            int bits = Float.floatToIntBits(f);
            int ascending = bits >= 0 ? bits : bits ^ 0x7fffffff;
            return -ascending - 1; // ~ascending without overflow at Integer.MIN_VALUE
        }
    }

    /** Drops tokens whose probability is below minP times the top token's (compared in log space). */
    record MinP(double minP) implements LogitsProcessor {
        @Override
        public void process(float[] scores, TokenHistory h) {
            float max = Float.NEGATIVE_INFINITY;
            for (float s : scores) {
                max = Math.max(max, s);
            }
            double threshold = max + Math.log(minP);
            for (int i = 0; i < scores.length; i++) {
                if (scores[i] < threshold) {
                    scores[i] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }
}
