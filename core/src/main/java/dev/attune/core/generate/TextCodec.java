package dev.attune.core.generate;

/** Placeholder until the tokenizer lands: text to ids and back, with a streaming decoder. */
public interface TextCodec {
    int[] encode(String text);

    String decode(int[] ids);

    StreamingDecoder streamingDecoder();

    interface StreamingDecoder {
        String push(int id);

        String flush();
    }
}
