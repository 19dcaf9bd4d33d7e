package dev.attune.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.tokenizer.BatchOptions.Padding;
import dev.attune.core.tokenizer.BatchOptions.Side;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchEncodingTest {

    private static final BpeTokenizer GPT2 = Tokenizer.gpt2();
    private static final int EOT = 50256;

    // "Hello world" -> [15496, 995]; " Hello world" -> [18435, 995]; "a" -> [64] (reference ids, see Gpt2TokenizerTest).
    private static final List<String> TEXTS = List.of("Hello world", "a", " Hello world<|endoftext|>a");

    @Test
    void padsRightToTheLongestByDefault() {
        BatchEncoding b = GPT2.encodeBatch(TEXTS, BatchOptions.defaults());
        assertThat(b.size()).isEqualTo(3);
        assertThat(b.lengths()).containsExactly(2, 1, 10);
        assertThat(b.ids()[0]).startsWith(15496, 995).hasSize(10);
        assertThat(b.ids()[1][0]).isEqualTo(64);
        assertThat(b.ids()[1][1]).isEqualTo(EOT); // GPT-2 has no pad token: eos pads
        assertThat(b.attentionMask()[1]).containsExactly(true, false, false, false, false, false, false, false, false,
                false);
        assertThat(b.ids()[2]).doesNotContain(EOT); // special token not allowed: spelled out
        assertThat(b.truncated()).containsOnly(0);
    }

    @Test
    void padsLeftAndAllowsSpecialTokens() {
        BatchOptions opts = BatchOptions.builder().paddingSide(Side.LEFT).padId(0)
                .allowedSpecial(Set.of("<|endoftext|>")).build();
        BatchEncoding b = GPT2.encodeBatch(TEXTS, opts);
        assertThat(b.ids()[2]).containsExactly(18435, 995, EOT, 64);
        assertThat(b.ids()[0]).containsExactly(0, 0, 15496, 995);
        assertThat(b.attentionMask()[0]).containsExactly(false, false, true, true);
        assertThat(b.starts()[0]).containsExactly(0, 0, 0, 5);
        assertThat(b.ends()[0]).containsExactly(0, 0, 5, 11);
        assertThat(b.starts()[2]).containsExactly(0, 6, 12, 25);
        assertThat(b.ends()[2]).containsExactly(6, 12, 25, 26);
    }

    @Test
    void truncatesOnTheChosenSide() {
        BatchOptions right = BatchOptions.builder().maxLength(3).allowedSpecial(Set.of("<|endoftext|>")).build();
        BatchEncoding r = GPT2.encodeBatch(TEXTS, right);
        assertThat(r.ids()[2]).containsExactly(18435, 995, EOT);
        assertThat(r.truncated()).containsExactly(0, 0, 1);
        BatchEncoding l = GPT2.encodeBatch(TEXTS, right.toBuilder().truncation(Side.LEFT).build());
        assertThat(l.ids()[2]).containsExactly(995, EOT, 64);
        assertThat(l.starts()[2]).containsExactly(6, 12, 25);
        BatchEncoding fixed = GPT2.encodeBatch(TEXTS, right.toBuilder().padding(Padding.MAX_LENGTH).maxLength(5)
                .build());
        assertThat(List.of(fixed.ids())).allSatisfy(row -> assertThat(row).hasSize(5));
        BatchEncoding ragged = GPT2.encodeBatch(TEXTS, right.toBuilder().padding(Padding.NONE).build());
        assertThat(ragged.ids()[1]).containsExactly(64);
        assertThat(ragged.attentionMask()[1]).containsExactly(true);
    }

    @Test
    void offsetsMapTokensBackToText() {
        String text = "Caf\u00E9 \uD83D\uDE42 costs $5.\n\u65E5\u672C";
        Encoding e = GPT2.encodeWithOffsets(text, Set.of());
        assertThat(e.ids()).containsExactly(GPT2.encode(text));
        StringBuilder rebuilt = new StringBuilder();
        int covered = 0;
        for (int i = 0; i < e.length(); i++) {
            assertThat(e.starts()[i]).isLessThan(e.ends()[i]);
            // Spans are contiguous, except tokens that share a split character share its span.
            if (e.starts()[i] == covered) {
                rebuilt.append(text, e.starts()[i], e.ends()[i]);
                covered = e.ends()[i];
            } else {
                assertThat(e.starts()[i]).isEqualTo(e.starts()[i - 1]);
                assertThat(e.ends()[i]).isEqualTo(e.ends()[i - 1]);
            }
            // A token whose bytes are whole characters decodes to exactly its span.
            String decoded = GPT2.decode(new int[] {e.ids()[i]});
            if (!decoded.contains("\uFFFD")) {
                assertThat(decoded).isEqualTo(text.substring(e.starts()[i], e.ends()[i]));
            }
        }
        assertThat(rebuilt.toString()).isEqualTo(text);
    }

    @Test
    void largeBatchesGiveTheSameRowsAsSingleEncodes() {
        List<String> texts = new ArrayList<>();
        java.util.Random random = new java.util.Random(9);
        for (int i = 0; i < 300; i++) {
            texts.add(TokenizerTestData.randomText(random, random.nextInt(20)));
        }
        BatchEncoding b = GPT2.encodeBatch(texts, BatchOptions.builder().padding(Padding.NONE).build());
        for (int i = 0; i < texts.size(); i++) {
            assertThat(b.ids()[i]).containsExactly(GPT2.encode(texts.get(i)));
        }
    }

    @Test
    void invalidOptionsAreRejected() {
        assertThatThrownBy(() -> BatchOptions.builder().padding(Padding.MAX_LENGTH).build())
                .hasMessageContaining("maxLength");
        assertThatThrownBy(() -> BatchOptions.builder().maxLength(-1).build()).hasMessageContaining("maxLength");
    }
}
