package dev.attune.core.generate;

import java.util.List;

/**
 * Follows the decoded text of one generated sequence, finds stop strings in it (they may span tokens), and says
 * which part is safe to show: text that might be the start of a stop string is held back until the next tokens
 * settle it, so streamed pieces never contain any part of a stop string and add up to the returned text.
 */
final class StopStrings {
    private final List<String> stops;
    private final int longest;
    private final StringBuilder text = new StringBuilder();
    private int shown;
    private int stopAt = -1;

    StopStrings(List<String> stops) {
        this.stops = List.copyOf(stops);
        this.longest = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /**
     * Appends newly decoded text and returns the part that can be shown now (possibly empty). After a stop string
     * appears, {@link #stopped()} is true and further text is ignored.
     */
    String append(String piece) {
        if (stopped()) {
            return "";
        }
        int from = text.length();
        text.append(piece);
        stopAt = find(from);
        int safe = stopped() ? stopAt : text.length() - pendingPrefix();
        return show(safe);
    }

    /** The rest of the text once generation is over (held-back text turned out not to be a stop string). */
    String finish() {
        return show(stopped() ? stopAt : text.length());
    }

    boolean stopped() {
        return stopAt >= 0;
    }

    /** The generated text, ending just before the stop string when one was found. */
    String text() {
        return stopped() ? text.substring(0, stopAt) : text.toString();
    }

    private String show(int upTo) {
        if (upTo <= shown) {
            return "";
        }
        String piece = text.substring(shown, upTo);
        shown = upTo;
        return piece;
    }

    /** Earliest start of a stop string that ends at or after {@code from} (earlier text was searched already). */
    private int find(int from) {
        int start = Math.max(0, from - longest + 1);
        int best = -1;
        for (String s : stops) {
            int at = text.indexOf(s, start);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        return best;
    }

    /** Length of the longest tail of the text that is a proper prefix of some stop string. */
    private int pendingPrefix() {
        int best = 0;
        int len = text.length();
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, len); k > best; k--) {
                if (endsWith(s, k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }

    /** True when the text ends with the first k characters of s. */
    private boolean endsWith(String s, int k) {
        int offset = text.length() - k;
        for (int i = 0; i < k; i++) {
            if (text.charAt(offset + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
