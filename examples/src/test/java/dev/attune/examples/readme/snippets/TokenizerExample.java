package dev.attune.examples.readme.snippets;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.tokenizer.BatchEncoding;
import dev.attune.core.tokenizer.BatchOptions;
import dev.attune.core.tokenizer.BatchOptions.Side;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import dev.attune.core.tokenizer.StreamingDecoder;
import dev.attune.core.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

public class TokenizerExample {
    public static void main(String[] args) throws Exception {
        Tokenizer tok = Tokenizer.gpt2();
        int[] ids = tok.encode("Hello world");                        // [15496, 995]
        String text = tok.decode(ids);                                // "Hello world"
        int[] special = tok.encode("a<|endoftext|>", Set.of("<|endoftext|>"));  // [64, 50256]; else plain text
        List<String> texts = List.of("Hello world", "A longer second text");
        BatchEncoding batch = tok.encodeBatch(texts, BatchOptions.builder()
                .maxLength(512).truncation(Side.LEFT).paddingSide(Side.LEFT).build());   // ids, mask, offsets
        StreamingDecoder out = tok.streamingDecoder();                // for streamed generation: whole characters only
        Path modelDir = Path.of("runs/quickstart/model");
        BpeTokenizer own = Tokenizer.load(modelDir);                  // tokenizer.json, or vocab.json + merges.txt
        Pretrained p = Pretrained.load(modelDir);                     // model + the tokenizer beside it, one call
        BpeTokenizer trained = BpeTrainer.builder().vocabSize(1000).build().trainFiles(List.of(Path.of("README.md")));
        trained.save(Path.of("runs/my-tokenizer"));                   // vocab.json, merges.txt, tokenizer.json, ...
        System.out.println(Arrays.toString(ids) + " " + text + " " + Arrays.toString(special) + " " + batch.size()
                + " " + out + " " + own.vocabSize() + " " + p.tokenizer().vocabSize() + " " + trained.vocabSize());
    }
}
