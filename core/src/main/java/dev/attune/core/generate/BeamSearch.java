package dev.attune.core.generate;

import dev.attune.core.generate.GenerationConfig.EarlyStopping;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The bookkeeping of beam search for one prompt, with Hugging Face's semantics, apart from the model.
 *
 * <p>Each step receives the processed log-probabilities of every live beam. A candidate's score is its beam's
 * summed log-probability plus the token's. Candidates are visited best first: one that ends its sequence (EOS or
 * a stop string) becomes a finished hypothesis if it ranks among the top {@code numBeams}, scored
 * {@code sum / generatedLength ^ lengthPenalty} with the final token counted; the others fill the next
 * {@code numBeams} beams. Only beam 0 is live at the first step (the others start at -1e9), so the beams do not
 * start as copies of each other. When generation ends, the live beams join the finished hypotheses and the best
 * score wins.
 *
 * @param <T> what the caller keeps of a finished sequence (its tokens, text, log-probabilities)
 */
final class BeamSearch<T> {

    /** The caller's view of the beams: which candidates end a sequence, and what to keep of a finished one. */
    interface Beams<T> {
        /** EOS or STOP when appending {@code token} to {@code beam} ends it, null when the beam goes on. */
        FinishReason finishes(int beam, int token);

        /** Captures a finished sequence: {@code beam} plus {@code token}, or the beam as it is when token is -1. */
        T capture(int beam, int token, FinishReason reason);
    }

    /** A finished sequence and its length-penalised score. */
    record Hypothesis<T>(double score, T value) {
    }

    /** The next beams: beam i continues parent beam {@code parents[i]} with {@code tokens[i]}. */
    record Selection(int[] parents, int[] tokens) {
    }

    private final int numBeams;
    private final double lengthPenalty;
    private final EarlyStopping earlyStopping;
    private final int maxNewTokens;
    private final float[] beamScores;
    private final List<Hypothesis<T>> finished = new ArrayList<>();
    private double worstScore = 1e9;
    private boolean done;

    /** {@code maxNewTokens} is the most tokens a beam can reach; {@link EarlyStopping#NEVER} bounds scores by it. */
    BeamSearch(int numBeams, double lengthPenalty, EarlyStopping earlyStopping, int maxNewTokens) {
        this.numBeams = numBeams;
        this.lengthPenalty = lengthPenalty;
        this.earlyStopping = earlyStopping;
        this.maxNewTokens = maxNewTokens;
        this.beamScores = new float[numBeams];
        Arrays.fill(beamScores, 1, numBeams, -1e9f);
    }

    /** True once no better hypothesis is expected (per {@code earlyStopping}); the beams need no more steps. */
    boolean done() {
        return done;
    }

    /** Summed log-probability of live beam {@code b}. */
    float beamScore(int b) {
        return beamScores[b];
    }

    /**
     * Advances by one token.
     *
     * @param logprobs        [numBeams][V] processed log-probabilities of each live beam's next token
     * @param generatedBefore tokens each live beam generated before this step
     */
    Selection step(float[][] logprobs, int generatedBefore, Beams<T> beams) {
        if (done) {
            throw new IllegalStateException("beam search is done");
        }
        int vocab = logprobs[0].length;
        float[] candidates = new float[numBeams * vocab];
        for (int b = 0; b < numBeams; b++) {
            for (int t = 0; t < vocab; t++) {
                candidates[b * vocab + t] = logprobs[b][t] + beamScores[b];
            }
        }
        int generated = generatedBefore + 1;
        int[] parents = new int[numBeams];
        int[] tokens = new int[numBeams];
        float[] scores = new float[numBeams];
        // 2 x numBeams candidates are enough unless many of them end their sequence; then look further.
        for (int wanted = 2 * numBeams; ; wanted *= 2) {
            int[] ranked = TopN.indices(candidates, wanted);
            int filled = 0;
            boolean exhausted = ranked.length == candidates.length;
            List<Hypothesis<T>> added = new ArrayList<>();
            for (int rank = 0; rank < ranked.length && filled < numBeams; rank++) {
                int b = ranked[rank] / vocab;
                int t = ranked[rank] % vocab;
                float score = candidates[ranked[rank]];
                if (score == Float.NEGATIVE_INFINITY) {
                    exhausted = true;
                    break;
                }
                FinishReason reason = beams.finishes(b, t);
                if (reason != null) {
                    if (rank < numBeams) {
                        added.add(new Hypothesis<>(score / Math.pow(generated, lengthPenalty),
                                beams.capture(b, t, reason)));
                    }
                } else {
                    parents[filled] = b;
                    tokens[filled] = t;
                    scores[filled] = score;
                    filled++;
                }
            }
            if (filled == numBeams || exhausted) {
                if (filled < numBeams) {
                    throw new IllegalStateException("beam search found only " + filled + " continuable tokens for "
                            + numBeams + " beams");
                }
                added.forEach(this::add);
                System.arraycopy(scores, 0, beamScores, 0, numBeams);
                done = isDone(candidates[ranked[0]], generated);
                return new Selection(parents, tokens);
            }
        }
    }

    /** Ends the search: live beams become hypotheses unless the search was done; returns the best one. */
    Hypothesis<T> finish(int generated, Beams<T> beams) {
        if (!done) {
            for (int b = 0; b < numBeams; b++) {
                add(new Hypothesis<>(beamScores[b] / Math.pow(generated, lengthPenalty),
                        beams.capture(b, -1, FinishReason.LENGTH)));
            }
            done = true;
        }
        // Ties go to the hypothesis added last, as Hugging Face's stable sort and pop() do.
        Hypothesis<T> best = null;
        for (Hypothesis<T> h : finished) {
            if (best == null || h.score() >= best.score()) {
                best = h;
            }
        }
        return best;
    }

    /** Finished hypotheses, best first. */
    List<Hypothesis<T>> hypotheses() {
        List<Hypothesis<T>> sorted = new ArrayList<>(finished);
        sorted.sort(Comparator.comparingDouble((Hypothesis<T> h) -> h.score()).reversed());
        return sorted;
    }

    /** Keeps the best numBeams hypotheses. */
    private void add(Hypothesis<T> h) {
        if (finished.size() < numBeams || h.score() > worstScore) {
            finished.add(h);
            if (finished.size() > numBeams) {
                int worst = 0;
                for (int i = 1; i < finished.size(); i++) {
                    if (finished.get(i).score() < finished.get(worst).score()) {
                        worst = i;
                    }
                }
                finished.remove(worst);
                worstScore = finished.stream().mapToDouble(Hypothesis::score).min().orElseThrow();
            } else {
                worstScore = Math.min(h.score(), worstScore);
            }
        }
    }

    private boolean isDone(double bestCandidate, int generated) {
        if (finished.size() < numBeams) {
            return false;
        }
        return switch (earlyStopping) {
            case EAGER -> true;
            case HEURISTIC -> worstScore >= bestCandidate / Math.pow(generated, lengthPenalty);
            case NEVER -> worstScore >= bestCandidate
                    / Math.pow(lengthPenalty > 0 ? maxNewTokens : generated, lengthPenalty);
        };
    }
}
