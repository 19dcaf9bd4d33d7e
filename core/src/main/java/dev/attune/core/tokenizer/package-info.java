/**
 * Text to token ids and back: GPT-2's byte-level BPE.
 *
 * <ul>
 *   <li>{@link dev.attune.core.tokenizer.Tokenizer} — the interface; {@code Tokenizer.gpt2()} (exact, offline) and
 *       {@code Tokenizer.load(dir)} (Hugging Face {@code tokenizer.json} or {@code vocab.json} + {@code merges.txt}).
 *   <li>{@link dev.attune.core.tokenizer.BpeTokenizer} — the implementation; adds special tokens and saves.
 *   <li>{@link dev.attune.core.tokenizer.BatchOptions} / {@link dev.attune.core.tokenizer.BatchEncoding} — padded,
 *       truncated batches with attention masks and character offsets.
 *   <li>{@link dev.attune.core.tokenizer.StreamingDecoder} — decoding for streamed generation, whole characters only.
 * </ul>
 */
package dev.attune.core.tokenizer;
