package dev.attune.examples.readme.snippets;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.ForwardResult;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import org.nd4j.linalg.api.ndarray.INDArray;

public class ForwardOutputsExample {
    public static void main(String[] args) {
        GptModel model = GptModel.create(GptConfig.tiny(), 42);
        // log p(9 10 | 1 2 3): inputs 1 2 3 9, and the two positions that predict the continuation carry targets
        TokenBatch batch = TokenBatch.of(new int[][] {{1, 2, 3, 9}}, new int[][] {{-1, -1, 9, 10}});
        ForwardResult r = model.forward(batch, Output.TARGET_LOGPROBS, Output.HIDDEN);
        double logLikelihood = r.targetLogProbs()[0];   // summed over the continuation's tokens
        boolean greedy = r.greedy()[0];                 // would greedy decoding produce it?
        INDArray hidden = r.hidden();                   // [1, 4, 128]
        System.out.println(logLikelihood + " " + greedy + " " + java.util.Arrays.toString(hidden.shape()));
    }
}
