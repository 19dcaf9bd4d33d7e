package dev.attune.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFileTest {

    @TempDir
    Path dir;

    @Test
    void writesTheLlmcLayoutWithEosAfterEachDocument() throws IOException {
        Path file = dir.resolve("train.bin");
        long n = TokenFile.write(file, 50257, 50256, List.of(new int[] {15496, 995}, new int[] {}, new int[] {65535 % 50257, 7}));
        assertThat(n).isEqualTo(7);

        // read the raw bytes independently of TokenFile
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(raw.capacity()).isEqualTo(1024 + 7 * 2);
        assertThat(raw.getInt(0)).isEqualTo(20240520);
        assertThat(raw.getInt(4)).isEqualTo(1);
        assertThat(raw.getInt(8)).isEqualTo(7);
        for (int i = 3; i < 256; i++) {
            assertThat(raw.getInt(4 * i)).isZero();
        }
        int[] tokens = new int[7];
        for (int i = 0; i < 7; i++) {
            tokens[i] = Short.toUnsignedInt(raw.getShort(1024 + 2 * i));
        }
        assertThat(tokens).containsExactly(15496, 995, 50256, 50256, 15278, 7, 50256);

        TokenFile read = TokenFile.open(file);
        assertThat(read.size()).isEqualTo(7);
        assertThat(read.bytesPerToken()).isEqualTo(2);
        assertThat(read.read(0, 7)).containsExactly(tokens);
        assertThat(read.get(4)).isEqualTo(15278);
    }

    @Test
    void idsAbove32767AreUnsignedAndLargeVocabulariesUseUint32() throws IOException {
        Path small = dir.resolve("u16.bin");
        TokenFile.write(small, 65_536, 0, List.of(new int[] {65_535, 40_000}));
        assertThat(TokenFile.open(small).read(0, 3)).containsExactly(65_535, 40_000, 0);

        Path big = dir.resolve("u32.bin");
        TokenFile.write(big, 128_256, 128_001, List.of(new int[] {128_000, 70_000, 3}));
        TokenFile f = TokenFile.open(big);
        assertThat(f.bytesPerToken()).isEqualTo(4);
        assertThat(f.read(0, 4)).containsExactly(128_000, 70_000, 3, 128_001);
        assertThat(Files.size(big)).isEqualTo(1024 + 16);
    }

    @Test
    void badTokensAndBadFilesAreNamed() throws IOException {
        Path file = dir.resolve("bad.bin");
        assertThatThrownBy(() -> TokenFile.write(file, 100, 99, List.of(new int[] {1, 2}, new int[] {3, 100})))
                .hasMessageContaining("document 1, token 1: id 100 is outside the vocabulary [0, 100)");
        assertThat(Files.exists(file)).as("a failed write leaves nothing behind").isFalse();
        try (var listing = Files.list(dir)) {
            assertThat(listing).isEmpty();
        }

        TokenFile.write(file, 100, 99, List.of(new int[] {1, 2, 3}));
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 2));
        assertThatThrownBy(() -> TokenFile.open(file)).hasMessageContaining("header says 4 tokens but the file holds 3");
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 1));
        assertThatThrownBy(() -> TokenFile.open(file)).hasMessageContaining("truncated");
        bytes[0] = 1;
        Files.write(file, bytes);
        assertThatThrownBy(() -> TokenFile.open(file)).hasMessageContaining("magic number");
        assertThatThrownBy(() -> TokenFile.open(dir.resolve("missing.bin"))).hasMessageContaining("missing.bin");
        TokenFile.write(file, 100, 99, List.of(new int[] {1, 2, 3}));
        assertThatThrownBy(() -> TokenFile.open(file).read(2, 5))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("tokens [2, 7) of 4");
    }
}
